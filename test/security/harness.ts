/**
 * What the security suites share: the bundled server (`perch serve`, test/helpers/registry.ts)
 * with an htpasswd login and a token key the test wrote itself (so it knows every secret the
 * server holds), and raw HTTP requests that can come from another loopback address (another
 * client, as far as the rate limit and the login throttle can tell) and that are all kept, so
 * a suite can scan every answer it got.
 */
import { writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';

/** Chromium as test/ui/browser.test.ts starts it (Debian's package; scripts/install-tools.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Reply {
  url: string;
  method: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  method?: string;
  /** A value may be a list: the header is then sent once per value. */
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** The loopback address the request leaves from (127.0.0.1 unless set): another client. */
  from?: string;
}

/** Every answer any `call` got in this file (each test file has its own copy of this module). */
export const REPLIES: Reply[] = [];

/** One request on its own connection; the answer is kept in REPLIES. */
export function call(url: string, options: CallOptions = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const started = performance.now();
  const method = options.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: { ...(body ? { 'Content-Length': body.length } : {}), ...options.headers }, agent: false, localAddress: options.from },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const reply: Reply = { url, method, status: res.statusCode ?? 0, headers: res.headers, body: text, ms: performance.now() - started, json: () => JSON.parse(text) };
          REPLIES.push(reply);
          resolve(reply);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function basic(user: string, password: string): { Authorization: string } {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** bcrypt entries as Apache's `htpasswd -B` writes them ($2y$); cost 4 keeps the shared CPU free. */
export function htpasswdLines(users: Record<string, string>): string {
  return Object.entries(users)
    .map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}\n`)
    .join('');
}

export interface SecuredOptions {
  users: Record<string, string>;
  /** The token key file's content (written before start); none: perch creates one. */
  tokenKey?: string;
  challenge?: 'basic' | 'bearer';
  ui?: boolean;
  logLevel?: 'debug' | 'info';
  /** Merged into the config's `http` section (failDelay goes to http.auth). */
  http?: Record<string, unknown>;
  failDelay?: number;
}

export interface SecuredRegistry {
  registry: RunningRegistry;
  htpasswd: string;
  tokenKeyFile: string;
}

/** The bundled server with htpasswd logins, listening on 127.0.0.1 (so 127.0.0.2+ are other clients). */
export async function startSecured(options: SecuredOptions): Promise<SecuredRegistry> {
  const dir = tempDir('perch-security-');
  const htpasswd = join(dir, 'htpasswd');
  const tokenKeyFile = join(dir, 'token.key');
  writeFileSync(htpasswd, htpasswdLines(options.users));
  if (options.tokenKey !== undefined) writeFileSync(tokenKeyFile, options.tokenKey, { mode: 0o600 });
  const registry = await startRegistry({
    config: {
      http: { ...options.http, auth: { htpasswd: { path: htpasswd }, failDelay: options.failDelay ?? 0 } },
      log: { level: options.logLevel ?? 'info' },
      perch: { auth: { challenge: options.challenge ?? 'basic', tokenKeyFile } },
      ...(options.ui ? { extensions: { ui: { enable: true } } } : {}),
    },
  });
  return { registry, htpasswd, tokenKeyFile };
}

/** Resolves when a log line matching `pattern` has appeared beyond the first `after` lines. */
export async function logLine(registry: RunningRegistry, pattern: RegExp, after = 0, timeoutMs = 10_000): Promise<string> {
  const start = Date.now();
  for (;;) {
    const found = registry.logs.slice(after).find((l) => pattern.test(l));
    if (found) return found;
    if (Date.now() - start > timeoutMs) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${registry.logs.slice(after).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
