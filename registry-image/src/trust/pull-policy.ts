/**
 * perch.trust.requireSignature: in repositories matching these globs (oci/repository-glob.ts,
 * zot's matching), GET and HEAD of a manifest that has no signature verified by a trusted key
 * is refused with DENIED, naming the repository, the policy and the fix.
 *
 * Always served, or signing and verifying could never work:
 * - any manifest, to a caller allowed to push to the repository (create or update): the
 *   publisher must read an image to sign it (cosign sign fetches the manifest it signs), and
 *   it could push anything anyway. So the policy binds readers: a deploy user with read only, a
 *   bearer token with pull scope only (what docker, containerd and kubelet ask for to pull,
 *   even for a user who could push), anonymous pulls. perch refuses the key in a config with
 *   no login (config/normalise.ts), where every caller may push and it would bind nobody;
 * - a manifest with a `subject` (signatures, attestations, SBOMs pushed as referrers);
 * - cosign's legacy tags (`sha256-<hex>.sig`/`.att`/`.sbom`), and manifests whose layers are
 *   signature or attestation payloads, when pulled by digest;
 * - the referrers API and blobs (the policy is about which images may be run; a blob alone is
 *   not an image, and a client only finds blobs through a manifest it was given);
 * - a platform manifest pulled by digest that a verified image index of the same repository
 *   lists: `cosign sign` signs an index, not its platforms (unless --recursive), and clients
 *   pull the index first, then their platform's manifest by digest. Finding that index reads
 *   the repository's tagged manifests, only on this path (an unverified manifest about to be
 *   refused), at most MAX_TAGS_SEARCHED; the index found is remembered per platform digest.
 *
 * Verification results are cached by report.ts, so a pull of a signed image costs a referrers
 * listing and three tag lookups, not a signature check.
 */
import type { ManifestGate, RequestContext } from '../http/context';
import { RegistryError } from '../http/errors';
import { compileGlob } from '../oci/repository-glob';
import { INDEX_TYPES } from '../oci/media-types';
import { parseDigest } from '../oci/digest';
import type { Store, StoredManifest } from '../storage/types';
import { BUNDLE_MEDIA_TYPE_PREFIX, DSSE_ENVELOPE, isLegacyCosignTag, NOTATION_SIGNATURE, SIMPLE_SIGNING } from './cosign-formats';
import type { TrustReporter } from './report';

/** A manifest that is itself signature or attestation material (any of the formats cosign-formats.ts knows). */
function isTrustArtifact(manifest: StoredManifest): boolean {
  let m: { subject?: unknown; artifactType?: unknown; config?: { mediaType?: unknown }; layers?: Array<{ mediaType?: unknown }> };
  try {
    m = JSON.parse(manifest.body.toString('utf8'));
  } catch {
    return false;
  }
  if (m.subject) return true;
  if (m.artifactType === NOTATION_SIGNATURE || m.config?.mediaType === NOTATION_SIGNATURE) return true;
  const layers = Array.isArray(m.layers) ? m.layers : [];
  return layers.length > 0 && layers.every((l) => typeof l?.mediaType === 'string' && (l.mediaType === SIMPLE_SIGNING || l.mediaType === DSSE_ENVELOPE || l.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)));
}

/** Whether the caller could push to the repository (create or update); never throws. */
function mayPush(ctx: RequestContext): boolean {
  for (const action of ['create', 'update'] as const) {
    try {
      ctx.allow(action);
      return true;
    } catch {
      // not this one
    }
  }
  return false;
}

const MAX_TAGS_SEARCHED = 1000;
const PARENTS_REMEMBERED = 4096;

function listsChild(index: StoredManifest, digest: string): boolean {
  if (!INDEX_TYPES.has(index.mediaType)) return false;
  try {
    const m = JSON.parse(index.body.toString('utf8')) as { manifests?: Array<{ digest?: unknown }> };
    return Array.isArray(m.manifests) && m.manifests.some((c) => c?.digest === digest);
  } catch {
    return false;
  }
}

export function pullPolicy(globs: readonly string[], reporter: TrustReporter, store: Store): ManifestGate | undefined {
  if (globs.length === 0) return undefined;
  const compiled = globs.map((g) => ({ glob: g, regex: compileGlob(g) }));
  /** `repository@platform digest` -> the digest of a tagged index that lists it. */
  const parents = new Map<string, string>();

  async function verifiedParent(repository: string, digest: string): Promise<boolean> {
    const key = `${repository}@${digest}`;
    const known = parents.get(key);
    if (known) {
      const index = await store.getManifest(repository, known);
      if (index && listsChild(index, digest) && (await reporter.report(repository, known)).verified) return true;
      parents.delete(key);
    }
    const tags = (await store.listTags(repository)).slice(0, MAX_TAGS_SEARCHED);
    const seen = new Set<string>();
    for (const tag of tags) {
      const candidate = await store.resolveTag(repository, tag);
      if (!candidate || seen.has(candidate)) continue;
      seen.add(candidate);
      const index = await store.getManifest(repository, candidate);
      if (!index || !listsChild(index, digest)) continue;
      if (!(await reporter.report(repository, candidate)).verified) continue;
      parents.set(key, candidate);
      if (parents.size > PARENTS_REMEMBERED) parents.delete(parents.keys().next().value!);
      return true;
    }
    return false;
  }

  return async (ctx, repository, reference, manifest) => {
    const rule = compiled.find((c) => c.regex.test(repository));
    if (!rule) return;
    if (isLegacyCosignTag(reference) || isTrustArtifact(manifest) || mayPush(ctx)) return;
    const report = await reporter.report(repository, manifest.digest);
    if (report.verified) return;
    if (parseDigest(reference) && !INDEX_TYPES.has(manifest.mediaType) && (await verifiedParent(repository, manifest.digest))) return;
    const why =
      report.status === 'unsigned'
        ? 'it has no cosign signature'
        : `its ${report.signatures.length === 1 ? 'signature does' : `${report.signatures.length} signatures do`} not verify with any trusted key`;
    throw new RegistryError(
      'DENIED',
      `${repository}@${manifest.digest} is refused by the registry's signature policy (perch.trust.requireSignature ${JSON.stringify(rule.glob)}): ${why}. ` +
        'Sign it with cosign and upload the public key with POST /v2/_zot/ext/cosign',
      { repository, digest: manifest.digest, policy: rule.glob, status: report.status },
    );
  };
}
