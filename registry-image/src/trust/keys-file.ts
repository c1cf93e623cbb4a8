/**
 * Where uploaded trust material is kept: `<storage.rootDirectory>/_perch/trust.json`, beside
 * the API keys (auth/apikey/api-key-file.ts) and for the same reasons: one perch serve per root
 * (storage/root-claim.ts), so this process is its only writer, and the whole file is written
 * to a temporary file, fsynced, renamed over the old one and its folder fsynced, so a crash
 * leaves the old file or the new one.
 *
 *   { "version": 1,
 *     "cosignKeys": [ { "id", "name", "pem", "added", "addedBy" } ],
 *     "notationCertificates": [ { "id", "truststoreType", "truststoreName", "pem", "added", "addedBy" } ] }
 *
 * Public keys and certificates are not secrets; the file is 0600 anyway, like its neighbours.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateJson } from '../storage/private-json-file';

export interface StoredCosignKey {
  /** "sha256:" + hex SHA-256 of the key's DER SubjectPublicKeyInfo (key-store.ts keyId). */
  id: string;
  name: string;
  pem: string;
  /** ms since the epoch. */
  added: number;
  /** Who uploaded it; null for an anonymous upload (a registry without login). */
  addedBy: string | null;
}

export interface StoredCertificate {
  /** "sha256:" + hex SHA-256 of the uploaded bytes (zot names the file the same way). */
  id: string;
  truststoreType: string;
  truststoreName: string;
  pem: string;
  added: number;
  addedBy: string | null;
}

export interface TrustFile {
  cosignKeys: StoredCosignKey[];
  notationCertificates: StoredCertificate[];
}

export function trustFilePath(rootDirectory: string): string {
  return join(rootDirectory, '_perch', 'trust.json');
}

/** What `path` holds; empty lists when there is no file yet. Throws naming the path for a file that is not ours. */
export async function readTrustFile(path: string): Promise<TrustFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { cosignKeys: [], notationCertificates: [] };
    throw err;
  }
  let parsed: Partial<TrustFile>;
  try {
    parsed = JSON.parse(text) as Partial<TrustFile>;
  } catch {
    throw new Error(`${path} is not JSON: restore it from a backup, or move it away and upload the keys again`);
  }
  const keys = Array.isArray(parsed?.cosignKeys) ? parsed.cosignKeys : [];
  const certs = Array.isArray(parsed?.notationCertificates) ? parsed.notationCertificates : [];
  return {
    cosignKeys: keys.filter((k) => typeof k?.id === 'string' && typeof k.pem === 'string' && typeof k.name === 'string'),
    notationCertificates: certs.filter((c) => typeof c?.id === 'string' && typeof c.pem === 'string'),
  };
}

/** Replaces `path` with `content`, atomically and durably. */
export async function writeTrustFile(path: string, content: TrustFile): Promise<void> {
  await writePrivateJson(path, { version: 1, ...content });
}
