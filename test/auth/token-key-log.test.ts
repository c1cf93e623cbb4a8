/**
 * What the bundled server (`perch serve`) logs about the token key at start-up. Under Basic
 * challenges (the default) the token service is an extra: with perch.auth.tokenKeyFile left out
 * and nothing at its default path, /secret/token.key, that is a healthy install, said once at
 * info. A key file someone named, or any key under Bearer challenges, must work: its absence
 * stays an error.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../registry-image/src/config/defaults';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { basic, PASSWORDS, tempDir, writeHtpasswd } from './harness';

let running: RunningRegistry | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

type LogLine = Record<string, unknown> & { level: string; message: string };

function parsed(logs: string[]): LogLine[] {
  return logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** The bundled server with an htpasswd login and the given perch.auth (none: every default). */
async function start(auth?: Record<string, unknown>): Promise<RunningRegistry> {
  const secret = tempDir('perch-secret-');
  writeHtpasswd(join(secret, 'htpasswd'), { bob: PASSWORDS.bob });
  running = await startRegistry({ config: { http: { auth: { htpasswd: { path: join(secret, 'htpasswd') } } }, ...(auth ? { perch: { auth } } : {}) } });
  return running;
}

/** The default key path's folder exists on some machines; there a test would create a real key. */
function skipWhereTheDefaultKeyFolderExists(ctx: { skip(note: string): void }): void {
  const folder = dirname(DEFAULTS.tokenKeyFile);
  if (existsSync(folder)) ctx.skip(`${folder} exists on this machine, so the default key path ${DEFAULTS.tokenKeyFile} is not missing here`);
}

/** A key path whose folder does not exist, so perch can neither read nor create the key. */
function unreachableKey(): string {
  return join(tempDir('perch-key-'), 'missing-folder', 'token.key');
}

describe('the token key at start-up', () => {
  it('basic challenge, tokenKeyFile left out, no key at the default path: no error or warning, one info line saying how to turn the token service on', async (ctx) => {
    skipWhereTheDefaultKeyFolderExists(ctx);
    const r = await start();
    // Past the first polls of the key file (once a second), which must add nothing either.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const lines = parsed(r.logs);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'warn'), r.logs.join('\n')).toEqual([]);
    const off = lines.filter((l) => l.message.startsWith('the token service is off'));
    expect(off, r.logs.join('\n')).toHaveLength(1);
    expect(off[0]).toMatchObject({ level: 'info', path: DEFAULTS.tokenKeyFile });
    expect(off[0].enable).toBe(`mount a key at ${DEFAULTS.tokenKeyFile} or set perch.auth.tokenKeyFile`);

    // Healthy: ready, and Basic login works.
    expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${r.url}/v2/`, { headers: basic('bob', PASSWORDS.bob) })).status).toBe(200);
    // The token service answers a clear OCI error that names the key and the setting.
    const token = await fetch(`${r.url}/v2/token`, { headers: basic('bob', PASSWORDS.bob) });
    expect(token.status).toBe(503);
    const body = (await token.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0].code).toBe('UNAVAILABLE');
    expect(body.errors[0].message).toContain(DEFAULTS.tokenKeyFile);
    expect(body.errors[0].message).toContain('perch.auth.tokenKeyFile');
  });

  it('basic challenge with a tokenKeyFile that was set and cannot be loaded: an error naming the file', async () => {
    const keyFile = unreachableKey();
    const r = await start({ challenge: 'basic', tokenKeyFile: keyFile });
    const errors = parsed(r.logs).filter((l) => l.level === 'error');
    expect(errors, r.logs.join('\n')).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'token key unavailable', path: keyFile });
    expect(errors[0].problem).toContain('cannot be created (its folder does not exist)');
  });

  it('bearer challenge, tokenKeyFile left out, no key at the default path: an error naming the file, and not ready', async (ctx) => {
    skipWhereTheDefaultKeyFolderExists(ctx);
    const r = await start({ challenge: 'bearer' });
    const errors = parsed(r.logs).filter((l) => l.level === 'error');
    expect(errors, r.logs.join('\n')).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: 'token key unavailable', path: DEFAULTS.tokenKeyFile });
    expect((await fetch(`${r.url}/readyz`)).status).toBe(503);
  });
});
