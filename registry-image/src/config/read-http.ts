/**
 * `http`: where perch listens, TLS, logins (read-auth.ts), access control, rate limits, and the
 * public URL. zot keeps the port as a string ("5000"); perch takes a string or a number.
 */
import { resolve } from 'node:path';
import { DEFAULTS } from './defaults';
import { loginConfigured, readAuth } from './read-auth';
import { grantsToLoggedInUsers, readAccessControl } from './read-access-control';
import type { Section } from './section';
import type { PerchConfig, TlsConfig } from './types';

type Http = PerchConfig['http'];

/** zot's compat.MediaCompatibility values (pkg/compat/compat.go). */
const COMPAT = ['docker2s2'] as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function readHttp(s: Section, cwd: string): Http {
  const address = s.string('address', DEFAULTS.address);
  if (address.trim() === '') s.problem('address', 'is empty; give an address to listen on, such as "0.0.0.0" or "127.0.0.1"');

  const http: Http = {
    address,
    port: s.has('port') ? readPort(s) : DEFAULTS.port,
    compat: readCompat(s),
    // A second at least: below that, a client on a busy network loses requests it was sending.
    readTimeoutMs: s.duration('readTimeout', { min: 1000 }) ?? DEFAULTS.readTimeoutMs,
    writeTimeoutMs: s.duration('writeTimeout', { min: 1000 }) ?? DEFAULTS.writeTimeoutMs,
  };

  const externalUrl = readExternalUrl(s);
  if (externalUrl !== undefined) http.externalUrl = externalUrl;
  const realm = s.string('realm');
  if (realm !== undefined) http.realm = realm;

  const tls = s.section('tls');
  if (tls.exists) http.tls = readTls(tls, cwd);

  const auth = s.section('auth');
  if (auth.exists) http.auth = readAuth(auth, cwd);

  const accessControl = s.section('accessControl');
  if (accessControl.exists) {
    http.accessControl = readAccessControl(accessControl);
    if (!loginConfigured(http.auth) && grantsToLoggedInUsers(http.accessControl)) {
      accessControl.problem(
        undefined,
        'grants access to users (policies, defaultPolicy or adminPolicy) but no login is configured; ' +
          'add a login method to http.auth (htpasswd, ldap, openid, mtls or bearer), or grant only anonymousPolicy',
      );
    }
  }

  const ratelimit = s.section('ratelimit');
  if (ratelimit.exists) {
    http.ratelimit = {
      methods: ratelimit.list('methods').map((m) => {
        if (!m.has('method')) m.problem('method', `is missing; give one of ${METHODS.join(', ')}`);
        if (!m.has('rate')) m.problem('rate', 'is missing; give the requests per second allowed for this method, e.g. 5');
        return { method: m.oneOf('method', METHODS, 'GET'), rate: m.integer('rate', 1, { min: 1 }) };
      }),
    };
    if (ratelimit.has('rate')) http.ratelimit.rate = ratelimit.integer('rate', 1, { min: 1 });
  }
  return http;
}

function readPort(s: Section): number {
  // 0 asks the system for a free port (tests use it); zot's own check is the same range (root.go validateHTTP).
  return s.integer('port', DEFAULTS.port, { min: 0, max: 65535 });
}

function readCompat(s: Section): string[] {
  const out: string[] = [];
  for (const word of s.strings('compat') ?? []) {
    const hit = COMPAT.find((c) => c === word.toLowerCase());
    if (hit === undefined) s.problem('compat', `${JSON.stringify(word)} is not a compatibility mode; zot knows ${COMPAT.map((c) => JSON.stringify(c)).join(', ')}`);
    else if (!out.includes(hit)) out.push(hit);
  }
  return out;
}

function readExternalUrl(s: Section): string | undefined {
  const text = s.string('externalUrl');
  if (text === undefined || text === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    s.problem('externalUrl', `${JSON.stringify(text)} is not a base URL; write it as clients reach the registry, e.g. "https://registry.example.com"`);
    return undefined;
  }
  // Without the trailing slash, so handlers can append "/v2/...".
  return text.replace(/\/+$/, '');
}

function readTls(s: Section, cwd: string): TlsConfig {
  const tls: TlsConfig = {};
  for (const key of ['cert', 'key', 'cacert'] as const) {
    const path = s.string(key);
    if (path) tls[key] = resolve(cwd, path);
  }
  if (!tls.cert || !tls.key) {
    const missing = tls.cert ? 'key' : 'cert';
    s.problem(missing, 'is missing; http.tls needs both cert and key (PEM files), or remove http.tls to serve plain HTTP');
  }
  return tls;
}
