/**
 * What is known about one manifest's signatures and attestations: every referrer of it
 * (OCI 1.1) and cosign's legacy tags (`sha256-<hex>.sig`/`.att`/`.sbom`), each signature
 * checked against the trusted keys (key-store.ts), each attestation's statement read and its
 * signature checked the same way.
 *
 * Verification reads blobs and does public-key crypto, so its result is cached per repository
 * and manifest digest, under a fingerprint of everything it depends on: the key set's version
 * and the digests of the referrers and legacy tags. Working out the fingerprint costs a
 * referrers listing and three tag lookups; a pull of an unchanged manifest re-verifies nothing,
 * and a new signature, a new key or a removed key changes the fingerprint, so the next look
 * verifies again (also when another process pushed the signature).
 */
import type { Store } from '../storage/types';
import {
  BUNDLE_MEDIA_TYPE_PREFIX,
  bundleEnvelope,
  COSIGN_SIGN_PREDICATE,
  COSIGN_SIGNATURE_ANNOTATION,
  DSSE_ENVELOPE,
  IN_TOTO_PAYLOAD,
  legacyTags,
  NOTATION_SIGNATURE,
  predicateLabel,
  readEnvelope,
  readStatement,
  SIMPLE_SIGNING,
  simpleSigningDigest,
  type DsseEnvelope,
} from './cosign-formats';
import type { TrustedKey, TrustKeys } from './key-store';
import { findSigner, pae } from './verify-signature';

/** A key as reports name it. */
export interface KeyRef {
  id: string;
  name: string;
  source: 'config' | 'upload';
}

export interface SignatureInfo {
  tool: 'cosign' | 'notation';
  /** bundle: Sigstore bundle referrer; simplesigning: cosign's legacy signature layer; notation: a notation signature. */
  format: 'bundle' | 'simplesigning' | 'notation';
  /** The manifest that carries it (a referrer, or the legacy .sig tag's manifest). */
  artifact: string;
  /** Set for the legacy tag form. */
  tag?: string;
  verified: boolean;
  key: KeyRef | null;
  /** Why it is not verified. */
  reason?: string;
}

export interface AttestationInfo {
  predicateType: string;
  /** "SPDX SBOM", "CycloneDX SBOM", ... for well-known predicate types. */
  label?: string;
  format: 'bundle' | 'dsse';
  artifact: string;
  tag?: string;
  /** The blob holding the bundle or envelope. */
  layer: { digest: string; mediaType: string; size: number };
  verified: boolean;
  key: KeyRef | null;
  reason?: string;
  /** The stored bundle or envelope, as pushed: GET /v2/<name>/blobs/<digest>. */
  download: string;
  /** The statement's predicate alone (the SBOM document itself), decoded by perch. */
  predicate: string;
}

export interface TrustReport {
  repository: string;
  digest: string;
  /** verified: some signature verifies with a trusted key; unverified: signed, none verifies; unsigned: no signature. */
  status: 'verified' | 'unverified' | 'unsigned';
  signed: boolean;
  verified: boolean;
  verifiedBy: KeyRef | null;
  signatures: SignatureInfo[];
  attestations: AttestationInfo[];
  /** Keys checked against (ids), so a reader can tell "no key" from "wrong key". */
  keysConsidered: number;
}

/** Signature material is small; an SBOM in a bundle may be a few MiB. Larger blobs are not read. */
const MAX_EVIDENCE_BYTES = 32 * 1024 * 1024;
const CACHE_ENTRIES = 4096;

interface Layer {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function keyRef(k: TrustedKey | undefined): KeyRef | null {
  return k ? { id: k.id, name: k.name, source: k.source } : null;
}

async function readBlob(store: Store, repository: string, digest: string): Promise<Buffer | undefined> {
  const stat = await store.repositoryBlob(repository, digest);
  if (!stat || stat.size > MAX_EVIDENCE_BYTES) return undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await store.openBlob(digest, { size: stat.size })) chunks.push(chunk as Buffer);
  } catch {
    return undefined; // collected since the stat
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer | undefined): unknown {
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

export class TrustReporter {
  private readonly cache = new Map<string, { fingerprint: string; report: TrustReport }>();
  /** Verifications done (not served from the cache): tests and the docs' cost claim read it. */
  verifications = 0;

  constructor(
    private readonly store: Store,
    private readonly keys: TrustKeys,
  ) {}

  async report(repository: string, digest: string): Promise<TrustReport> {
    const tags = legacyTags(digest);
    const [referrers, ...tagDigests] = await Promise.all([
      this.store.listReferrers(repository, digest),
      ...(tags ? [tags.sig, tags.att, tags.sbom].map((t) => this.store.resolveTag(repository, t)) : []),
    ]);
    const sources: Array<{ digest: string; tag?: string }> = referrers.map((r) => ({ digest: r.digest }));
    if (tags) [tags.sig, tags.att, tags.sbom].forEach((tag, i) => tagDigests[i] && sources.push({ digest: tagDigests[i]!, tag }));
    const fingerprint = `${this.keys.version}|${sources.map((s) => `${s.tag ?? ''}=${s.digest}`).join(',')}`;
    const cacheKey = `${repository}@${digest}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.fingerprint === fingerprint) return hit.report;
    const report = await this.build(repository, digest, sources);
    this.verifications++;
    this.cache.delete(cacheKey);
    this.cache.set(cacheKey, { fingerprint, report });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return report;
  }

  private async build(repository: string, digest: string, sources: Array<{ digest: string; tag?: string }>): Promise<TrustReport> {
    const keys = this.keys.cosignKeys();
    const signatures: SignatureInfo[] = [];
    const attestations: AttestationInfo[] = [];
    for (const source of sources) {
      const stored = await this.store.getManifest(repository, source.digest);
      const manifest = parseJson(stored?.body) as { artifactType?: string; config?: { mediaType?: string }; layers?: Layer[] } | undefined;
      if (!manifest) continue;
      const base = { artifact: source.digest, ...(source.tag ? { tag: source.tag } : {}) };
      // What the artifact says it holds, for a layer perch cannot read (a bundle without a DSSE envelope).
      const declaredPredicate = (manifest as { annotations?: Record<string, string> }).annotations?.['dev.sigstore.bundle.predicateType'];
      if (manifest.artifactType === NOTATION_SIGNATURE || manifest.config?.mediaType === NOTATION_SIGNATURE) {
        signatures.push({ tool: 'notation', format: 'notation', ...base, verified: false, key: null, reason: 'perch does not verify notation signatures (docs/trust.md)' });
        continue;
      }
      for (const layer of Array.isArray(manifest.layers) ? manifest.layers : []) {
        if (typeof layer?.mediaType !== 'string' || typeof layer.digest !== 'string') continue;
        if (layer.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) {
          const envelope = bundleEnvelope(parseJson(await readBlob(this.store, repository, layer.digest)));
          this.fromEnvelope(envelope, 'bundle', repository, digest, { ...layer, annotations: { ...(declaredPredicate ? { predicateType: declaredPredicate } : {}), ...layer.annotations } }, base, keys, signatures, attestations);
        } else if (layer.mediaType === DSSE_ENVELOPE) {
          const envelope = readEnvelope(parseJson(await readBlob(this.store, repository, layer.digest)));
          this.fromEnvelope(envelope, 'dsse', repository, digest, layer, base, keys, signatures, attestations);
        } else if (layer.mediaType === SIMPLE_SIGNING) {
          signatures.push({ tool: 'cosign', format: 'simplesigning', ...base, ...(await this.simpleSigning(repository, digest, layer, keys)) });
        }
      }
    }
    const good = signatures.find((s) => s.verified);
    return {
      repository,
      digest,
      status: good ? 'verified' : signatures.length ? 'unverified' : 'unsigned',
      signed: signatures.length > 0,
      verified: good !== undefined,
      verifiedBy: good?.key ?? null,
      signatures,
      attestations,
      keysConsidered: keys.length,
    };
  }

  private async simpleSigning(repository: string, digest: string, layer: Layer, keys: TrustedKey[]): Promise<Pick<SignatureInfo, 'verified' | 'key' | 'reason'>> {
    const sig = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    const payload = await readBlob(this.store, repository, layer.digest);
    if (!sig || !payload) return { verified: false, key: null, reason: !sig ? 'the layer has no signature annotation' : 'the signed payload is not in the repository' };
    if (simpleSigningDigest(payload) !== digest) return { verified: false, key: null, reason: 'the signature is for another manifest' };
    const signer = findSigner(keys, payload, Buffer.from(sig, 'base64'));
    return signer ? { verified: true, key: keyRef(signer) } : { verified: false, key: null, reason: noKeyReason(keys) };
  }

  private fromEnvelope(
    envelope: DsseEnvelope | undefined,
    format: 'bundle' | 'dsse',
    repository: string,
    digest: string,
    layer: Layer,
    base: { artifact: string; tag?: string },
    keys: TrustedKey[],
    signatures: SignatureInfo[],
    attestations: AttestationInfo[],
  ): void {
    const statement = envelope && envelope.payloadType === IN_TOTO_PAYLOAD ? readStatement(envelope.payload) : undefined;
    let verified = false;
    let key: KeyRef | null = null;
    let reason: string | undefined;
    if (!envelope || !statement) reason = 'not a DSSE envelope of an in-toto statement';
    else if (!statement.subjectDigests.includes(digest)) reason = 'the statement is about another manifest';
    else {
      const signed = pae(envelope.payloadType, envelope.payload);
      const signer = envelope.signatures.map((s) => findSigner(keys, signed, s)).find((k) => k !== undefined);
      verified = signer !== undefined;
      key = keyRef(signer);
      if (!signer) reason = noKeyReason(keys);
    }
    const outcome = { verified, key, ...(reason ? { reason } : {}) };
    const predicateType = statement?.predicateType ?? layer.annotations?.predicateType;
    // A signature, or a bundle perch cannot read (a messageSignature, keyless material): still "signed".
    if (predicateType === COSIGN_SIGN_PREDICATE || (format === 'bundle' && predicateType === undefined)) {
      signatures.push({ tool: 'cosign', format: 'bundle', ...base, ...outcome });
      return;
    }
    const label = predicateType ? predicateLabel(predicateType) : undefined;
    attestations.push({
      predicateType: predicateType ?? 'unknown',
      ...(label ? { label } : {}),
      format,
      ...base,
      layer: { digest: layer.digest, mediaType: layer.mediaType, size: layer.size },
      ...outcome,
      download: blobPath(repository, layer.digest),
      predicate: `/v2/_zot/ext/trust/${repository}/predicates/${layer.digest}`,
    });
  }
}

function noKeyReason(keys: readonly TrustedKey[]): string {
  return keys.length === 0 ? 'no cosign key is trusted yet: upload one with POST /v2/_zot/ext/cosign' : 'signed by a key perch does not trust (unknown key)';
}

/** The in-toto predicate carried by a stored bundle or DSSE envelope blob; undefined when it holds none. */
export async function readPredicate(store: Store, repository: string, layerDigest: string): Promise<{ predicateType: string; predicate: unknown } | undefined> {
  const json = parseJson(await readBlob(store, repository, layerDigest));
  const envelope = bundleEnvelope(json) ?? readEnvelope(json);
  const statement = envelope ? readStatement(envelope.payload) : undefined;
  return statement ? { predicateType: statement.predicateType, predicate: statement.predicate } : undefined;
}
