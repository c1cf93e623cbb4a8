/**
 * The API key store and its login method, without a server: keys are kept as SHA-256 hashes in
 * an atomically replaced file, a key checks only for its owner and only until it expires or is
 * revoked, tokens issued after a key login end with the key (stillValid), and a store reopened
 * from the file knows the same keys.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator, apiKeyFilePath, ApiKeyStore, hashApiKey } from '../../registry-image/src/auth/apikey';
import { recordingLogger, tempDir } from './harness';

const base = { owner: 'dev', groups: ['ci'], label: 'ci', scopes: [], creatorUa: 'test' };

async function openStore(now: () => number = Date.now) {
  const path = apiKeyFilePath(tempDir('perch-apikey-store-'));
  return { path, store: await ApiKeyStore.open(path, recordingLogger().log, now) };
}

describe('ApiKeyStore and ApiKeyAuthenticator', () => {
  it('keeps only the hash, in a 0600 file replaced atomically (no temporary file left)', async () => {
    const { path, store } = await openStore();
    const { key, record } = await store.create({ ...base, expires: null });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(hashApiKey(key));
    expect(text).not.toContain(key.slice(4));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(path, '..'))).toEqual(['apikeys.json']);
    expect(record.hash).toBe(hashApiKey(key));
  });

  it('checks a key only for its owner, with the groups it was made with and its id as version', async () => {
    const { store } = await openStore();
    const auth = new ApiKeyAuthenticator(store);
    const { key, record } = await store.create({ ...base, expires: null });
    expect(await auth.check('dev', key)).toEqual({ username: 'dev', groups: ['ci'], method: 'apikey', version: record.id });
    expect(await auth.check('someone-else', key)).toBeNull();
    expect(await auth.check('dev', 'not-a-key')).toBeNull();
    expect(await auth.check('dev', key.slice(0, -1) + (key.endsWith('0') ? '1' : '0'))).toBeNull();
    expect(store.list('dev')[0].lastUsed).not.toBeNull();
  });

  it('a revoked or expired key stops at once, and so do tokens issued after it (stillValid)', async () => {
    let now = 1_000_000;
    const { store } = await openStore(() => now);
    const auth = new ApiKeyAuthenticator(store);
    const a = await store.create({ ...base, expires: null });
    const b = await store.create({ ...base, expires: now + 60_000 });
    expect(auth.stillValid('dev', a.record.id)).toBe(true);
    expect(auth.stillValid('other', a.record.id)).toBe(false);
    expect(await store.revoke('other', a.record.id)).toBe(false); // not theirs
    expect(await store.revoke('dev', a.record.id)).toBe(true);
    expect(await auth.check('dev', a.key)).toBeNull();
    expect(auth.stillValid('dev', a.record.id)).toBe(false);

    expect(await auth.check('dev', b.key)).not.toBeNull();
    now += 60_000;
    expect(await auth.check('dev', b.key)).toBeNull();
    expect(auth.stillValid('dev', b.record.id)).toBe(false);
    expect(auth.stillValid('dev', undefined)).toBe(false);
  });

  it('a store reopened from the file knows the same keys; a file that is not its own is refused by name', async () => {
    const { path, store } = await openStore();
    const { key } = await store.create({ ...base, expires: null });
    await store.close();
    const again = await ApiKeyStore.open(path, recordingLogger().log);
    expect(await new ApiKeyAuthenticator(again).check('dev', key)).not.toBeNull();
    writeFileSync(path, '{"keys": ');
    await expect(ApiKeyStore.open(path, recordingLogger().log)).rejects.toThrow(`${path} is not JSON`);
  });
});
