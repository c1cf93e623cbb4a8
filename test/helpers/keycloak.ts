/**
 * A real Keycloak (the Quarkus distribution from Maven Central, installed by
 * `scripts/install-tools.sh keycloak` into $PERCH_TOOLS/keycloak-<version>) on a loopback port,
 * in dev mode with an in-memory database, so every start is a fresh server. It needs Java 21
 * or newer: KEYCLOAK_JAVA_HOME, or the newest JDK under /usr/lib/jvm.
 *
 * The first start on a machine builds Keycloak's optimised image (about a minute on 2 cores);
 * later starts take 20 to 45 seconds. `admin()` calls the Admin REST API as the bootstrap admin,
 * which the tests use to set up realms the way docs/auth.md tells a person to in the console.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

export const KEYCLOAK_VERSION = '26.5.6';
export const KEYCLOAK_HOME = join(process.env.PERCH_TOOLS ?? join(homedir(), '.cache', 'perch-tools'), `keycloak-${KEYCLOAK_VERSION}`);
const ADMIN = { username: 'admin', password: 'Keycloak-Admin-Pw-1' };
const START_TIMEOUT_MS = 240_000;

export interface RunningKeycloak {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  issuer(realm: string): string;
  /** An Admin REST API call (path after /admin/realms); throws with Keycloak's answer unless 2xx. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Tokens by the resource-owner password grant (the client needs directAccessGrantsEnabled). */
  passwordGrant(realm: string, client: { id: string; secret: string }, user: string, password: string): Promise<{ accessToken: string; idToken?: string; expiresIn: number }>;
  logs: string[];
  stop(): Promise<void>;
}

/** JAVA_HOME of a JDK Keycloak runs on (21 or newer), or a message saying what is missing. */
export function keycloakJavaHome(): string {
  const candidates = process.env.KEYCLOAK_JAVA_HOME ? [process.env.KEYCLOAK_JAVA_HOME] : readdirSync('/usr/lib/jvm').map((d) => join('/usr/lib/jvm', d));
  let best: { home: string; major: number } | undefined;
  for (const home of candidates) {
    const release = join(home, 'release');
    if (!existsSync(join(home, 'bin', 'java')) || !existsSync(release)) continue;
    const major = Number(/JAVA_VERSION="(\d+)/.exec(readFileSync(release, 'utf8'))?.[1] ?? 0);
    if (!best || major > best.major) best = { home, major };
  }
  if (!best || best.major < 21) throw new Error(`Keycloak ${KEYCLOAK_VERSION} needs Java 21 or newer; found ${best ? `Java ${best.major} at ${best.home}` : 'no JDK under /usr/lib/jvm'}: install one, or set KEYCLOAK_JAVA_HOME`);
  return best.home;
}

export async function startKeycloak(): Promise<RunningKeycloak> {
  const script = join(KEYCLOAK_HOME, 'bin', 'kc.sh');
  if (!existsSync(script)) throw new Error(`${script} is missing: run "bash scripts/install-tools.sh keycloak"`);
  const javaHome = keycloakJavaHome();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const child: ChildProcess = spawn(script, ['start-dev', '--db=dev-mem', `--http-port=${port}`, '--http-host=127.0.0.1', '--hostname-strict=false'], {
    env: {
      ...process.env,
      JAVA_HOME: javaHome,
      PATH: `${join(javaHome, 'bin')}:${process.env.PATH ?? ''}`,
      KC_BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      // Keycloak's own proxy settings must not send loopback calls anywhere.
      NO_PROXY: '127.0.0.0/8,localhost',
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(line);
    if (logs.length > 2000) logs.splice(0, logs.length - 2000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));

  const stop = async () => {
    if (exited !== undefined) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await gone;
    clearTimeout(timer);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(`Keycloak exited with ${exited} before it was ready:\n${logs.slice(-40).join('\n')}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Keycloak was not ready in ${START_TIMEOUT_MS / 1000} s:\n${logs.slice(-40).join('\n')}`);
    }
    const ok = await fetch(`${url}/realms/master/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  let adminToken: { value: string; until: number } | undefined;
  const token = async (): Promise<string> => {
    if (adminToken && adminToken.until > Date.now()) return adminToken.value;
    const res = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: ADMIN.username, password: ADMIN.password }),
    });
    if (!res.ok) throw new Error(`Keycloak admin login: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    adminToken = { value: body.access_token, until: Date.now() + (body.expires_in - 10) * 1000 };
    return adminToken.value;
  };

  return {
    url,
    logs,
    issuer: (realm) => `${url}/realms/${realm}`,
    async admin(method, path, body) {
      const res = await fetch(`${url}/admin/realms${path}`, {
        method,
        headers: { Authorization: `Bearer ${await token()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Keycloak ${method} /admin/realms${path}: ${res.status} ${text.slice(0, 500)}`);
      return text ? JSON.parse(text) : undefined;
    },
    async passwordGrant(realm, client, user, password) {
      const res = await fetch(`${url}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', client_id: client.id, client_secret: client.secret, username: user, password, scope: 'openid' }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Keycloak token for ${user} in ${realm}: ${res.status} ${text.slice(0, 300)}`);
      const body = JSON.parse(text) as { access_token: string; id_token?: string; expires_in: number };
      return { accessToken: body.access_token, ...(body.id_token ? { idToken: body.id_token } : {}), expiresIn: body.expires_in };
    },
    stop,
  };
}
