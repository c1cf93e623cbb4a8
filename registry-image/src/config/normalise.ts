/**
 * Second pass: turn the checked key tree into a PerchConfig, filling defaults and checking the
 * rules that span sections.
 */
import { resolve, posix } from 'node:path';
import type { CheckedObject, Report } from './check-keys';
import { DEFAULTS } from './defaults';
import { loginConfigured } from './read-auth';
import { readHttp } from './read-http';
import { readPerch } from './read-perch';
import { readStorage } from './read-storage';
import { Section } from './section';
import type { LogLevel, PerchConfig } from './types';

/** zot's log levels (pkg/log ParseLevel) and the level perch logs each at. */
const LOG_LEVELS: Record<string, LogLevel> = {
  debug: 'debug',
  trace: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
  panic: 'error',
};

export function normalise(root: CheckedObject, report: Report, cwd: string): PerchConfig {
  const top = new Section(root, [], report);
  const config: PerchConfig = {
    distSpecVersion: top.string('distSpecVersion', DEFAULTS.distSpecVersion),
    http: readHttp(top.section('http'), cwd),
    storage: readStorage(top.section('storage'), cwd),
    log: readLog(top.section('log'), cwd),
    extensions: readExtensions(top.section('extensions')),
    perch: readPerch(top.section('perch'), cwd),
  };
  checkAcrossSections(top, config);
  return config;
}

function readLog(s: Section, cwd: string): PerchConfig['log'] {
  const word = s.oneOf('level', Object.keys(LOG_LEVELS), DEFAULTS.logLevel);
  const log: PerchConfig['log'] = { level: LOG_LEVELS[word] };
  // zot: an empty output means stdout.
  const output = s.string('output');
  if (output) log.output = resolve(cwd, output);
  const audit = s.string('audit');
  if (audit) log.audit = resolve(cwd, audit);
  return log;
}

function readExtensions(s: Section): PerchConfig['extensions'] {
  const extensions: PerchConfig['extensions'] = {};
  // zot: an extension section that is present is enabled unless it says `enable: false`.
  const metrics = s.section('metrics');
  if (metrics.exists) {
    const prometheus = metrics.section('prometheus');
    const path = prometheus.string('path', DEFAULTS.metricsPath);
    const problem = metricsPathProblem(path);
    if (problem) prometheus.problem('path', `${JSON.stringify(path)} ${problem}; use a clean absolute path such as "/metrics"`);
    extensions.metrics = { enable: metrics.bool('enable', true), prometheus: { path } };
  }
  const ui = s.section('ui');
  if (ui.exists) extensions.ui = { enable: ui.bool('enable', true) };
  const trust = s.section('trust');
  // zot: enable defaults to true once the section is there; cosign and notation to false.
  if (trust.exists) extensions.trust = { enable: trust.bool('enable', true), cosign: trust.bool('cosign', false), notation: trust.bool('notation', false) };
  return extensions;
}

/** zot's validateMetricsConfig, plus the paths perch serves itself (the registry API and health). */
function metricsPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'does not start with "/"';
  const clean = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (clean !== path) return `is not clean (it means ${JSON.stringify(clean)})`;
  if (path === '/' || path === '/v2' || path.startsWith('/v2/')) return 'would hide the registry API';
  if (['/livez', '/readyz', '/startupz', '/health'].includes(path)) return 'is a health endpoint';
  if (path === '/_ui' || path.startsWith('/_ui/')) return 'is the browse UI';
  return undefined;
}

function checkAcrossSections(top: Section, config: PerchConfig): void {
  const perchAuth = top.section('perch').section('auth');
  if (config.perch.auth.challenge === 'bearer' && !config.http.auth?.htpasswd && !config.http.auth?.ldap) {
    perchAuth.problem('challenge', '"bearer" needs http.auth.htpasswd.path or http.auth.ldap: the token service checks those credentials before it issues a token');
  }
  if (config.http.auth?.mtls && !config.http.tls?.cacert) {
    top.section('http').section('auth').problem('mtls', 'needs http.tls with cert, key and cacert (the CA that signs client certificates): without them no client can present a certificate');
  }
  const trust = config.extensions.trust;
  if ((config.perch.trust?.requireSignature.length ?? 0) > 0) {
    const perchTrust = top.section('perch').section('trust');
    if (!(trust?.enable && trust.cosign)) {
      perchTrust.problem('requireSignature', 'needs "extensions": {"trust": {"enable": true, "cosign": true}}: without cosign verification no image could ever be pulled from those repositories');
    } else if (!loginConfigured(config.http.auth)) {
      // The policy binds callers who may only read (trust/pull-policy.ts); with no login everyone may push.
      perchTrust.problem('requireSignature', 'needs a login (http.auth, e.g. htpasswd): the policy binds callers who may only read, and with no login every caller may push (and so may read unsigned images, to sign them)');
    }
  }
  const selfSigned = top.section('perch').section('tls').section('selfSigned');
  if (config.perch.tlsSelfSigned && config.http.tls) {
    selfSigned.problem(undefined, 'conflicts with http.tls: use the certificate http.tls names, or generate one, not both');
  }
}
