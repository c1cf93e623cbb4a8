/** GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference> (spec: "Pulling manifests", "Pushing Manifests"). */
import { RegistryError } from '../http/errors';
import { MAX_MANIFEST_BYTES, readBody } from '../http/request-body';
import { sendEmpty } from '../http/respond';
import type { RequestContext } from '../http/context';
import { digestOf, parseDigest } from '../oci/digest';
import { ManifestInvalid, parseManifest, type Descriptor, type ParsedManifest } from '../oci/manifest';
import { commitManifest } from '../quota/commit';
import { storageUsage } from '../quota/usage';
import type { StoredManifest } from '../storage/types';
import { referenceParam, repositoryParam } from './validate';

/**
 * A reference that is neither a tag nor a digest names no manifest: GET and HEAD answer 404
 * MANIFEST_UNKNOWN, as distribution and zot do (clients probe such names, and read a 400 as a
 * broken registry). PUT and DELETE still refuse it as invalid (400).
 */
function lookupReference(reference: string, name: string): { digest?: string; tag?: string } {
  try {
    return referenceParam(reference);
  } catch (err) {
    if (err instanceof RegistryError) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${JSON.stringify(reference)} is not in ${name}: it is neither a tag nor a digest`);
    throw err;
  }
}

async function resolveManifest(ctx: RequestContext, name: string, reference: string): Promise<StoredManifest> {
  const { store } = ctx.parts;
  const ref = lookupReference(reference, name);
  const digest = ref.digest ?? (await store.resolveTag(name, ref.tag!));
  const manifest = digest ? await store.getManifest(name, digest) : null;
  if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not in ${name}`);
  return manifest;
}

export async function getManifest(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const manifest = await resolveManifest(ctx, name, ctx.params.reference);
  await ctx.parts.manifestGate?.(ctx, name, ctx.params.reference, manifest);
  const headers = {
    'Content-Type': manifest.mediaType,
    'Content-Length': manifest.body.length,
    'Docker-Content-Digest': manifest.digest,
    ETag: `"${manifest.digest}"`,
  };
  ctx.res.writeHead(200, headers);
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : manifest.body);
}

/**
 * Everything a manifest points at must already be in the repository (MANIFEST_BLOB_UNKNOWN
 * otherwise). Each is refreshed before it is checked, so online GC keeps it (gc/collector.ts).
 */
async function checkReferences(ctx: RequestContext, name: string, parsed: ParsedManifest): Promise<void> {
  const { store } = ctx.parts;
  const missing = (d: Descriptor, what: string) => new RegistryError('MANIFEST_BLOB_UNKNOWN', `${what} ${d.digest} is not in ${name}: push it first`, { digest: d.digest });
  const usage = storageUsage(store);
  await Promise.all([
    ...parsed.blobs.map(async (d) => {
      if (!(await store.touchRepositoryBlob(name, d.digest))) throw missing(d, 'blob');
      // Sizes of what a repository holds are in the quota totals (kept for every push); a blob
      // linked by another process since this one started is stat'ed.
      const size = usage.heldSize(name, d.digest) ?? (await store.repositoryBlob(name, d.digest))?.size;
      if (size === undefined) throw missing(d, 'blob');
      if (size !== d.size) throw new RegistryError('MANIFEST_INVALID', `descriptor of ${d.digest} says ${d.size} bytes but the blob has ${size}`);
    }),
    ...parsed.children.map(async (d) => {
      await store.touchBlob(d.digest);
      if (!(await store.getManifest(name, d.digest))) throw missing(d, 'manifest');
    }),
  ]);
}

/**
 * The route let in callers with create or update (http/routes.ts 'create-or-update'); which
 * one this PUT needs is zot's rule (pkg/api/authz.go, manifestWriteAuthzChecks): moving a tag
 * that exists is update, anything else (a new tag, a push by digest) is create. A caller
 * allowed both pays no tag lookup.
 */
async function allowManifestWrite(ctx: RequestContext, store: RequestContext['parts']['store'], name: string, tag: string | undefined): Promise<void> {
  const may = (action: 'create' | 'update') => {
    try {
      ctx.allow(action);
      return true;
    } catch {
      return false;
    }
  };
  if (may('create') && may('update')) return;
  const exists = tag !== undefined && (await store.resolveTag(name, tag)) !== null;
  ctx.allow(exists ? 'update' : 'create');
}

export async function putManifest(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const ref = referenceParam(ctx.params.reference);
  const { store } = ctx.parts;
  const body = await readBody(ctx.req, MAX_MANIFEST_BYTES);
  const algorithm = ref.digest ? parseDigest(ref.digest)!.algorithm : 'sha256';
  const digest = digestOf(body, algorithm);
  if (ref.digest && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', `manifest hashes to ${digest}, not ${ref.digest}`);
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(body, ctx.req.headers['content-type']);
  } catch (err) {
    if (err instanceof ManifestInvalid) throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${err.message}`);
    throw err;
  }
  await allowManifestWrite(ctx, store, name, ref.tag);
  const subject = parsed.subject
    ? {
        digest: parsed.subject.digest,
        descriptor: {
          mediaType: parsed.mediaType,
          digest,
          size: body.length,
          ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
          ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
        },
      }
    : undefined;
  // Quota reservation, then check and write under the GC guard (quota/commit.ts).
  await commitManifest(ctx.parts, name, { digest, mediaType: parsed.mediaType, body }, subject, ref.tag, () => checkReferences(ctx, name, parsed));
  const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
  if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
  sendEmpty(ctx.res, 201, headers);
}

/** By tag: removes the tag only. By digest: removes the manifest and every tag pointing at it. */
export async function deleteManifest(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const ref = referenceParam(ctx.params.reference);
  const { store } = ctx.parts;
  const deleted = ref.tag ? await store.deleteTag(name, ref.tag) : await store.deleteManifest(name, ref.digest!);
  if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${ctx.params.reference} is not in ${name}`);
  if (ref.digest) storageUsage(store).repositoryReleases(name, ref.digest);
  sendEmpty(ctx.res, 202);
}
