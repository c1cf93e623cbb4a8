/**
 * The keys signatures are checked against: cosign public keys from the config
 * (perch.trust.cosignKeys, read once at start) and those uploaded with POST /v2/_zot/ext/cosign
 * (kept in keys-file.ts), plus the notation certificates uploaded with POST
 * /v2/_zot/ext/notation (kept, listed, not used to verify: docs/trust.md "Gaps").
 *
 * A key's id is "sha256:" + the SHA-256 of its DER SubjectPublicKeyInfo: the same key written
 * with other line breaks or another PEM header is the same key, so a second upload of it
 * replaces the first (its name) instead of adding a duplicate. `version` grows with every
 * change; the verification cache (report.ts) keys on it, so a new key is used at once.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '../log';
import { readTrustFile, writeTrustFile, type StoredCertificate, type StoredCosignKey, type TrustFile } from './keys-file';

export interface TrustedKey {
  id: string;
  name: string;
  source: 'config' | 'upload';
  key: KeyObject;
  /** e.g. "ecdsa P-256", "rsa 2048", "ed25519". */
  algorithm: string;
  pem: string;
  added?: number;
  addedBy?: string | null;
}

export class InvalidKey extends Error {}

/** Parses one PEM public key (what `cosign generate-key-pair` writes to cosign.pub). */
export function parsePublicKey(pem: string): { key: KeyObject; id: string; algorithm: string } {
  if (!/-----BEGIN [A-Z ]*PUBLIC KEY-----/.test(pem)) throw new InvalidKey('not a PEM public key: expected "-----BEGIN PUBLIC KEY-----", as cosign generate-key-pair writes to cosign.pub');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new InvalidKey(`not a public key perch can read: ${(err as Error).message}`);
  }
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa' && type !== 'ed25519') throw new InvalidKey(`a ${type} key; cosign signatures use ECDSA, RSA or Ed25519 keys`);
  const details = key.asymmetricKeyDetails ?? {};
  const algorithm = type === 'ec' ? `ecdsa ${details.namedCurve ?? ''}`.trim() : type === 'rsa' ? `rsa ${details.modulusLength ?? ''}`.trim() : 'ed25519';
  const der = key.export({ type: 'spki', format: 'der' });
  return { key, id: `sha256:${createHash('sha256').update(der).digest('hex')}`, algorithm: algorithm.replace('prime256v1', 'P-256').replace('secp384r1', 'P-384').replace('secp521r1', 'P-521') };
}

/** Checks an uploaded notation certificate (PEM, one or more, or DER); returns its subjects. */
export function parseCertificates(body: Buffer): string[] {
  const text = body.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  try {
    if (!blocks) return [new X509Certificate(body).subject];
    return blocks.map((b) => new X509Certificate(b).subject);
  } catch (err) {
    throw new InvalidKey(`not an X.509 certificate: ${(err as Error).message}`);
  }
}

export class TrustKeys {
  private configKeys: TrustedKey[] = [];
  private uploaded = new Map<string, StoredCosignKey>();
  private parsed = new Map<string, TrustedKey>();
  private certificates: StoredCertificate[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** Grows with every change of the key set. */
  version = 0;

  /** `path`: the trust file, or undefined when uploads cannot be kept (object storage). */
  constructor(
    readonly path: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Reads the config's key files (a bad one fails the start, naming it) and the uploaded keys. */
  async load(configKeyFiles: readonly string[]): Promise<void> {
    for (const file of configKeyFiles) {
      let pem: string;
      try {
        pem = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(`perch.trust.cosignKeys: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      try {
        const { key, id, algorithm } = parsePublicKey(pem);
        this.configKeys.push({ id, name: basename(file), source: 'config', key, algorithm, pem });
      } catch (err) {
        throw new Error(`perch.trust.cosignKeys: ${file} is ${(err as Error).message}`);
      }
    }
    if (!this.path) return;
    const stored = await readTrustFile(this.path);
    for (const k of stored.cosignKeys) {
      try {
        this.remember(k);
      } catch (err) {
        this.log.warn('trust: a stored cosign key cannot be read; it is skipped', { id: k.id, name: k.name, error: (err as Error).message });
      }
    }
    this.certificates = stored.notationCertificates;
    this.version++;
  }

  private remember(k: StoredCosignKey): void {
    const { key, algorithm } = parsePublicKey(k.pem);
    this.uploaded.set(k.id, k);
    this.parsed.set(k.id, { id: k.id, name: k.name, source: 'upload', key, algorithm, pem: k.pem, added: k.added, addedBy: k.addedBy });
  }

  /** Every cosign key, config keys first. */
  cosignKeys(): TrustedKey[] {
    return [...this.configKeys, ...this.parsed.values()];
  }

  notationCertificates(): readonly StoredCertificate[] {
    return this.certificates;
  }

  /** Adds (or renames) an uploaded key; throws InvalidKey for a body that is not one. */
  async addCosignKey(pem: string, name: string | undefined, by: string | null): Promise<TrustedKey> {
    const { id } = parsePublicKey(pem);
    // The same key again: a new name replaces the old, no name keeps it.
    const record: StoredCosignKey = { id, name: name || this.uploaded.get(id)?.name || id.slice(0, 19), pem, added: Date.now(), addedBy: by };
    this.remember(record);
    this.version++;
    await this.persist();
    return this.parsed.get(id)!;
  }

  /** Removes an uploaded key by id; false when there is none (config keys are removed from the config). */
  async removeCosignKey(id: string): Promise<boolean> {
    if (!this.uploaded.delete(id)) return false;
    this.parsed.delete(id);
    this.version++;
    await this.persist();
    return true;
  }

  async addCertificate(cert: Omit<StoredCertificate, 'added'>): Promise<void> {
    this.certificates = [...this.certificates.filter((c) => !(c.id === cert.id && c.truststoreType === cert.truststoreType && c.truststoreName === cert.truststoreName)), { ...cert, added: Date.now() }];
    this.version++;
    await this.persist();
  }

  /** Writes the file; changes are serialised so the last one always wins. */
  private persist(): Promise<void> {
    const path = this.path;
    if (!path) return Promise.resolve();
    const snapshot: TrustFile = { cosignKeys: [...this.uploaded.values()], notationCertificates: this.certificates };
    const next = this.writing.then(() => writeTrustFile(path, snapshot));
    this.writing = next.catch(() => {});
    return next;
  }
}
