/**
 * Where API keys are kept: `<storage.rootDirectory>/_perch/apikeys.json`, beside the
 * repositories (one perch serve per root, storage/root-claim.ts, so this process is the only
 * writer). Written whole each time, to a temporary file that is fsynced, renamed over the old
 * one and its folder fsynced: a crash leaves the old file or the new one, never half of one.
 *
 *   { "version": 1, "keys": [ { "id", "hash", "owner", "groups", "label", "scopes",
 *                               "created", "expires", "lastUsed", "creatorUa" } ] }
 *
 * `hash` is the SHA-256 of the key; the key itself is never written anywhere.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateJson } from '../../storage/private-json-file';

export interface StoredApiKey {
  /** Public id (what GET lists and DELETE ?id= names), a UUID. */
  id: string;
  /** SHA-256 of the whole key ("zak_..."), hex. */
  hash: string;
  owner: string;
  /** The owner's groups when the key was made. */
  groups: string[];
  label: string;
  scopes: string[];
  /** ms since the epoch. */
  created: number;
  /** ms since the epoch; null: never. */
  expires: number | null;
  lastUsed: number | null;
  creatorUa: string;
}

export function apiKeyFilePath(rootDirectory: string): string {
  return join(rootDirectory, '_perch', 'apikeys.json');
}

/** The keys in `path`; [] when there is no file yet. Throws with the path for a file that is not ours. */
export async function readApiKeyFile(path: string): Promise<StoredApiKey[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON: restore it from a backup, or move it away to start with no API keys`);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error(`${path} has no "keys" list: restore it from a backup, or move it away to start with no API keys`);
  return keys.filter(isStoredKey);
}

function isStoredKey(k: unknown): k is StoredApiKey {
  const r = k as Record<string, unknown>;
  return (
    typeof r === 'object' && r !== null &&
    typeof r.id === 'string' && typeof r.hash === 'string' && /^[0-9a-f]{64}$/.test(r.hash) &&
    typeof r.owner === 'string' && Array.isArray(r.groups) && typeof r.created === 'number' &&
    (r.expires === null || typeof r.expires === 'number')
  );
}

/** Replaces `path` with `keys`, atomically and durably. */
export async function writeApiKeyFile(path: string, keys: StoredApiKey[]): Promise<void> {
  await writePrivateJson(path, { version: 1, keys });
}
