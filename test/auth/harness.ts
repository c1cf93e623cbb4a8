/**
 * A small loopback HTTP server that puts an Auth in front of registry-shaped routes, the way
 * the registry's server does (authenticate, then authorize the route's action), so the auth
 * tests see real status codes, headers and bodies over real sockets without needing the
 * storage or handlers. Also: config and htpasswd builders, and a log that records every line.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Auth } from '../../registry-image/src/auth/types';
import { defaultConfig } from '../../registry-image/src/config/defaults';
import type { AccessControlConfig, PerchConfig, PolicyAction } from '../../registry-image/src/config/types';
import { RegistryError } from '../../registry-image/src/http/errors';
import { createLogger, type Logger } from '../../registry-image/src/log';
import { tempDir as removedAfterFile } from '../helpers/temp-dir';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface AuthServer {
  url: string;
  host: string;
  request(method: string, path: string, options?: { headers?: Record<string, string>; body?: string }): Promise<Reply>;
  close(): Promise<void>;
}

/** Repositories the fake catalog holds; tags that exist (a PUT to one is an update, as in zot). */
export const REPOSITORIES = ['public/tools', 'team/app', 'team/other', 'secret/vault'];
const EXISTING_TAGS = new Set(['team/app:stable']);

function routeAction(method: string, path: string): { repository?: string; action: PolicyAction; base?: 'api' | 'catalog' } | undefined {
  if (path === '/v2/' || path === '/v2') return { action: 'read', base: 'api' };
  if (path === '/v2/_catalog') return { action: 'read', base: 'catalog' };
  const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(path);
  if (!m) return undefined;
  const [, repository, kind, ref] = m;
  if (kind === 'blobs' && ref === 'uploads/') return { repository, action: 'create' };
  if (method === 'GET' || method === 'HEAD') return { repository, action: 'read' };
  if (method === 'DELETE') return { repository, action: 'delete' };
  return { repository, action: EXISTING_TAGS.has(`${repository}:${ref}`) ? 'update' : 'create' };
}

function sendError(res: ServerResponse, err: unknown): void {
  const error = err instanceof RegistryError ? err : new RegistryError('INTERNAL', String((err as Error)?.message));
  const body = JSON.stringify(error.toJSON());
  res.writeHead(error.status, { ...error.headers, 'Content-Type': 'application/json' });
  res.end(body);
}

async function handle(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/v2/token') return auth.handleToken(req, res);
  if (path === '/readyz') {
    const r = auth.readiness();
    res.writeHead(r.ok ? 200 : 503, { 'Content-Type': 'text/plain' });
    res.end(r.ok ? 'ok' : r.reason);
    return;
  }
  const route = routeAction(req.method ?? 'GET', path);
  if (!route) {
    res.writeHead(404);
    res.end();
    return;
  }
  const identity = await auth.authenticate(req);
  auth.authorize(identity, route.repository, route.action);
  req.resume();
  if (route.base === 'catalog') {
    const body = JSON.stringify({ repositories: REPOSITORIES.filter((r) => auth.canRead(identity, r)) });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
    return;
  }
  res.writeHead(route.action === 'read' ? 200 : 201, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ user: identity.username, action: route.action, repository: route.repository ?? null }));
}

export async function startAuthServer(auth: Auth): Promise<AuthServer> {
  const server = createServer((req, res) => {
    handle(auth, req, res).catch((err) => sendError(res, err));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    host,
    request: (method, path, options = {}) => send(port, method, path, options),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function send(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Every password, Basic value and token the tests sent: none may ever appear in a log line. */
export const SENT_SECRETS = new Set<string>();

export function basic(user: string, password: string): Record<string, string> {
  const value = Buffer.from(`${user}:${password}`).toString('base64');
  SENT_SECRETS.add(password);
  SENT_SECRETS.add(value);
  return { Authorization: `Basic ${value}` };
}

export function bearer(token: string): Record<string, string> {
  SENT_SECRETS.add(token);
  // The signature alone is secret enough to look for (a log line might hold a cut token).
  const signature = token.split('.')[2];
  if (signature && signature.length > 16) SENT_SECRETS.add(signature);
  return { Authorization: `Bearer ${token}` };
}

/** An htpasswd file; cost 4 keeps the tests light on the shared CPU (the format is the same). */
export function writeHtpasswd(path: string, users: Record<string, string>, cost = 4): void {
  const lines = Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, cost).replace(/^\$2b\$/, '$2y$')}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** A temporary folder, removed after the test file (helpers/temp-dir.ts). */
export function tempDir(prefix = 'perch-auth-'): string {
  return removedAfterFile(prefix);
}

export const PASSWORDS = {
  admin: 'admin-Secret-1',
  alice: 'alice-Secret-2',
  bob: 'bob-Secret-3',
  carol: 'carol-Secret-4',
};

/**
 * The access control most tests use:
 *   team/**    alice read/create/update, group "readers" (bob) read, carol everything
 *   public/**  anonymous read, any logged-in user read
 *   admin      everything everywhere (adminPolicy)
 */
export const TEAM_ACCESS: AccessControlConfig = {
  groups: { readers: { users: ['bob'] } },
  repositories: {
    'team/**': {
      policies: [
        { users: ['alice'], groups: [], actions: ['read', 'create', 'update'] },
        { users: [], groups: ['readers'], actions: ['read'] },
        { users: ['carol'], groups: [], actions: ['read', 'create', 'update', 'delete'] },
      ],
      defaultPolicy: [],
      anonymousPolicy: [],
    },
    'public/**': { policies: [], defaultPolicy: ['read'], anonymousPolicy: ['read'] },
  },
  adminPolicy: { users: ['admin'], groups: [], actions: ['read', 'create', 'update', 'delete'] },
};

export interface ConfigOptions {
  htpasswd?: string;
  failDelay?: number;
  accessControl?: AccessControlConfig;
  challenge?: 'basic' | 'bearer';
  tokenKeyFile?: string;
  tokenTTLSeconds?: number;
  externalUrl?: string;
}

export function makeConfig(options: ConfigOptions): PerchConfig {
  const config = defaultConfig(tempDir('perch-cfg-'));
  config.http.address = '127.0.0.1';
  if (options.htpasswd) config.http.auth = { htpasswd: { path: options.htpasswd }, failDelay: options.failDelay ?? 0 };
  if (options.accessControl) config.http.accessControl = options.accessControl;
  if (options.externalUrl) config.http.externalUrl = options.externalUrl;
  config.perch.auth.challenge = options.challenge ?? 'basic';
  config.perch.auth.tokenKeyFile = options.tokenKeyFile ?? join(tempDir('perch-key-'), 'token.key');
  if (options.tokenTTLSeconds) config.perch.auth.tokenTTLSeconds = options.tokenTTLSeconds;
  return config;
}

/** A logger that keeps every line, to assert on warnings and on what must never be logged. */
export function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('debug', (line) => lines.push(line)), lines };
}
