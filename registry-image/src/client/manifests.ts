/**
 * Manifests, tags, the catalog and referrers (distribution spec "Pulling manifests",
 * "Pushing manifests", "Content discovery", "Deleting manifests", "Listing referrers").
 * A manifest fetched by digest must hash to that digest; fetched by tag, to the
 * Docker-Content-Digest the registry sends with it. Lists follow the Link header's pages.
 */
import { newHash, isDigest } from '../oci/digest';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../oci/media-types';
import { RegistryError } from './errors';
import type { HttpResponse } from './http-transport';
import { refusal } from './refusal';
import type { Session } from './session';
import type { Descriptor } from './blobs';

export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  /** The bytes as served (their digest is `digest`). */
  bytes: Buffer;
  /** The parsed JSON. */
  manifest: Record<string, unknown>;
}

const manifestUrl = (session: Session, repository: string, reference: string) => `${session.origin}/v2/${repository}/manifests/${reference}`;

export function digestWith(algorithm: string, bytes: Buffer): string {
  const known = algorithm === 'sha512' ? 'sha512' : 'sha256';
  return `${known}:${newHash(known).update(bytes).digest('hex')}`;
}

export async function fetchManifest(session: Session, repository: string, reference: string): Promise<FetchedManifest> {
  const what = `GET of manifest ${repository}:${reference}`;
  const response = await session.send({ method: 'GET', url: manifestUrl(session, repository, reference), headers: { Accept: MANIFEST_ACCEPT }, what }, { repository, actions: 'pull' });
  if (response.status !== 200) throw refusal(session, what, response, repository, 'read');
  const bytes = response.body;
  const expected = isDigest(reference) ? reference : response.headers['docker-content-digest'];
  const algorithm = expected?.split(':')[0] ?? 'sha256';
  const digest = digestWith(algorithm, bytes);
  if (expected && digest !== expected) {
    throw new RegistryError(
      'digest-mismatch',
      `refused manifest ${repository}:${reference}: the registry sent bytes whose digest is ${digest}, not ${expected}. Its copy is corrupt, or something between it and you altered it`,
    );
  }
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new RegistryError('protocol', `the manifest ${repository}:${reference} from ${session.origin} is not JSON`);
  }
  const mediaType = (typeof manifest.mediaType === 'string' ? manifest.mediaType : undefined) ?? response.headers['content-type']?.split(';')[0] ?? OCI_MANIFEST;
  return { digest, mediaType, bytes, manifest };
}

/** HEAD: the descriptor of what a tag or digest names, or undefined when there is none. */
export async function resolveManifest(session: Session, repository: string, reference: string): Promise<Descriptor | undefined> {
  const what = `HEAD of manifest ${repository}:${reference}`;
  const response = await session.send({ method: 'HEAD', url: manifestUrl(session, repository, reference), headers: { Accept: MANIFEST_ACCEPT }, what }, { repository, actions: 'pull' });
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw refusal(session, what, response, repository, 'read');
  const digest = response.headers['docker-content-digest'];
  if (!digest) {
    // A registry that leaves the digest out of HEAD: hash what GET returns.
    const fetched = await fetchManifest(session, repository, reference);
    return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  }
  return { mediaType: response.headers['content-type']?.split(';')[0] ?? OCI_MANIFEST, digest, size: Number(response.headers['content-length'] ?? 0) };
}

/** PUT a manifest at a tag or at its digest; checks the registry kept these very bytes. */
export async function putManifest(session: Session, repository: string, reference: string, mediaType: string, bytes: Buffer, digest: string): Promise<void> {
  const what = `PUT of manifest ${repository}:${reference}`;
  const response = await session.send(
    { method: 'PUT', url: manifestUrl(session, repository, reference), headers: { 'Content-Type': mediaType }, body: bytes, what },
    { repository, actions: 'pull,push' },
  );
  if (response.status !== 201 && response.status !== 200 && response.status !== 204) throw refusal(session, what, response, repository, 'push');
  const stored = response.headers['docker-content-digest'];
  if (stored && stored !== digest) {
    throw new RegistryError('protocol', `the registry at ${session.origin} stored ${repository}:${reference} as ${stored}, but the manifest sent has digest ${digest}: it changed the manifest`);
  }
}

/** DELETE by digest; a tag is resolved to its digest first (as `oras manifest delete` does), which removes every tag on it. */
export async function deleteManifest(session: Session, repository: string, reference: string): Promise<string> {
  let digest = reference;
  if (!isDigest(reference)) {
    const found = await resolveManifest(session, repository, reference);
    if (!found) throw new RegistryError('not-found', `the registry at ${session.origin} has no manifest ${repository}:${reference} to delete`, { status: 404 });
    digest = found.digest;
  }
  const what = `DELETE of manifest ${repository}@${digest}`;
  const response = await session.send({ method: 'DELETE', url: manifestUrl(session, repository, digest), what }, { repository, actions: 'delete' });
  if (response.status !== 202 && response.status !== 200 && response.status !== 204) throw refusal(session, what, response, repository, 'delete');
  return digest;
}

/** Every page of a list answer: follows `Link: <url>; rel="next"`. */
async function pages<T>(session: Session, first: string, scope: Parameters<Session['send']>[1], what: string, repository: string | undefined, read: (body: unknown) => T[]): Promise<T[]> {
  const out: T[] = [];
  let url: string | undefined = first;
  for (let page = 0; url && page < 1000; page++) {
    const response: HttpResponse = await session.send({ method: 'GET', url, headers: { Accept: 'application/json' }, what }, scope);
    if (response.status !== 200) throw refusal(session, what, response, repository, 'read');
    let body: unknown;
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new RegistryError('protocol', `the ${what} at ${session.origin} answered with something that is not JSON`);
    }
    out.push(...read(body));
    const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.link ?? '')?.[1];
    url = next ? session.resolve(next, 'next page').href : undefined;
  }
  return out;
}

export function listTags(session: Session, repository: string): Promise<string[]> {
  return pages(session, `${session.origin}/v2/${repository}/tags/list`, { repository, actions: 'pull' }, `tag list of ${repository}`, repository, (body) => {
    const tags = (body as { tags?: unknown }).tags;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  });
}

export function listRepositories(session: Session): Promise<string[]> {
  return pages(session, `${session.origin}/v2/_catalog`, 'catalog', 'catalog listing', undefined, (body) => {
    const repos = (body as { repositories?: unknown }).repositories;
    return Array.isArray(repos) ? repos.filter((r): r is string => typeof r === 'string') : [];
  });
}

/**
 * The manifests whose subject is `digest` (OCI 1.1 referrers API); a registry without that API
 * (404, as distribution 2.8) is asked for the fallback tag `sha256-<hex>` instead, the index
 * oras and other clients keep there for such registries.
 */
export async function referrers(session: Session, repository: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
  if (!isDigest(digest)) throw new RegistryError('invalid', `referrers need a digest (sha256:...), not ${JSON.stringify(digest)}`);
  const url = new URL(`${session.origin}/v2/${repository}/referrers/${digest}`);
  if (artifactType) url.searchParams.set('artifactType', artifactType);
  const what = `referrers listing of ${repository}@${digest}`;
  const first = await session.send({ method: 'GET', url: url.href, headers: { Accept: OCI_INDEX }, what }, { repository, actions: 'pull' });
  const filter = (list: Descriptor[]) => (artifactType ? list.filter((d) => d.artifactType === artifactType) : list);
  const manifestsOf = (body: unknown) => {
    const manifests = (body as { manifests?: unknown }).manifests;
    return Array.isArray(manifests) ? (manifests as Descriptor[]) : [];
  };
  if (first.status === 404 && !first.body.toString('utf8').includes('MANIFEST_UNKNOWN')) {
    const tag = digest.replace(':', '-');
    const found = await resolveManifest(session, repository, tag);
    if (!found) return [];
    return filter(manifestsOf((await fetchManifest(session, repository, tag)).manifest));
  }
  if (first.status !== 200) throw refusal(session, what, first, repository, 'read');
  let body: unknown;
  try {
    body = JSON.parse(first.body.toString('utf8'));
  } catch {
    throw new RegistryError('protocol', `the ${what} at ${session.origin} is not JSON`);
  }
  const out = manifestsOf(body);
  const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(first.headers.link ?? '')?.[1];
  if (next) out.push(...(await pages(session, session.resolve(next, 'next page').href, { repository, actions: 'pull' }, what, repository, manifestsOf)));
  // The registry may not have applied the filter (no OCI-Filters-Applied header): apply it here.
  return first.headers['oci-filters-applied']?.includes('artifactType') ? out : filter(out);
}
