/**
 * The shapes of signature and attestation artifacts as they land in a registry, and how to
 * take each apart. Media types and annotation names are the public formats' own:
 *
 * - Sigstore bundle (what cosign v3 writes by default, as an OCI 1.1 referrer of the image):
 *   a manifest whose artifactType and only layer are `application/vnd.dev.sigstore.bundle.v0.3+json`.
 *   The layer is the bundle (protobuf-specs' JSON): `dsseEnvelope` {payloadType, payload (base64),
 *   signatures[{sig (base64)}]} whose payload is an in-toto statement. `cosign sign` uses the
 *   predicate type https://sigstore.dev/cosign/sign/v1; `cosign attest` the one its --type names.
 * - Legacy simple signing (cosign v2, and v3 with --new-bundle-format=false): the tag
 *   `sha256-<hex>.sig` (or a referrer with artifactType application/vnd.dev.cosign.artifact.sig.v1+json)
 *   whose layers are `application/vnd.dev.cosign.simplesigning.v1+json` payloads, each with its
 *   base64 signature in the annotation `dev.cosignproject.cosign/signature`; the payload's
 *   critical.image["docker-manifest-digest"] names the signed manifest.
 * - Legacy attestations: the tag `sha256-<hex>.att`, layers `application/vnd.dsse.envelope.v1+json`
 *   holding a DSSE envelope of an in-toto statement (annotation `predicateType`).
 * - Notation: a referrer with artifactType `application/vnd.cncf.notary.signature` (listed, not verified).
 */

export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';
export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const LEGACY_SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
/** The predicate type of the statement `cosign sign` wraps in a bundle: a signature, not an attestation. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const IN_TOTO_PAYLOAD = 'application/vnd.in-toto+json';

/** Tags cosign's legacy mode uses for the manifest with digest `sha256:<hex>`. */
export function legacyTags(digest: string): { sig: string; att: string; sbom: string } | undefined {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) return undefined;
  return { sig: `sha256-${m[1]}.sig`, att: `sha256-${m[1]}.att`, sbom: `sha256-${m[1]}.sbom` };
}

/** A tag of cosign's legacy form (`sha256-<hex>.sig`, `.att`, `.sbom`): always pullable. */
export function isLegacyCosignTag(tag: string): boolean {
  return /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(tag);
}

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signatures: Buffer[];
}

export interface Statement {
  predicateType: string;
  subjectDigests: string[];
  predicate: unknown;
}

function decodeBase64(value: unknown): Buffer | undefined {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
}

/** A DSSE envelope in its JSON form (DSSE's own, and the bundle's `dsseEnvelope`). */
export function readEnvelope(value: unknown): DsseEnvelope | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const e = value as Record<string, unknown>;
  const payload = decodeBase64(e.payload);
  if (typeof e.payloadType !== 'string' || !payload || !Array.isArray(e.signatures)) return undefined;
  const signatures = e.signatures.flatMap((s) => {
    const sig = decodeBase64((s as Record<string, unknown> | null)?.sig);
    return sig && sig.length > 0 ? [sig] : [];
  });
  return { payloadType: e.payloadType, payload, signatures };
}

/** The envelope inside a Sigstore bundle; undefined for a bundle without one (a messageSignature). */
export function bundleEnvelope(bundle: unknown): DsseEnvelope | undefined {
  return readEnvelope((bundle as Record<string, unknown> | null)?.dsseEnvelope);
}

/** An in-toto statement (v0.1 or v1), with its subjects' digests as "algorithm:hex". */
export function readStatement(payload: Buffer): Statement | undefined {
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!s || typeof s !== 'object' || typeof s.predicateType !== 'string') return undefined;
  const subjects = Array.isArray(s.subject) ? s.subject : [];
  const subjectDigests = subjects.flatMap((sub) => {
    const d = (sub as Record<string, unknown> | null)?.digest;
    if (!d || typeof d !== 'object') return [];
    return Object.entries(d as Record<string, unknown>).flatMap(([alg, hex]) => (typeof hex === 'string' ? [`${alg}:${hex}`] : []));
  });
  return { predicateType: s.predicateType, subjectDigests, predicate: s.predicate };
}

/** The manifest digest a simple-signing payload vouches for. */
export function simpleSigningDigest(payload: Buffer): string | undefined {
  try {
    const p = JSON.parse(payload.toString('utf8')) as { critical?: { image?: Record<string, unknown> } };
    const d = p.critical?.image?.['docker-manifest-digest'];
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

/** A short name for common predicate types, for people ("SPDX SBOM"); undefined for others. */
export function predicateLabel(predicateType: string): string | undefined {
  if (predicateType.startsWith('https://spdx.dev/Document')) return 'SPDX SBOM';
  if (predicateType.startsWith('https://cyclonedx.org/bom')) return 'CycloneDX SBOM';
  if (predicateType.startsWith('https://slsa.dev/provenance')) return 'SLSA provenance';
  if (predicateType.startsWith('https://cosign.sigstore.dev/attestation/vuln')) return 'vulnerability scan';
  if (predicateType === 'https://cosign.sigstore.dev/attestation/v1') return 'custom attestation';
  return undefined;
}
