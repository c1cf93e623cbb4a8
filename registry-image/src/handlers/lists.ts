/** GET /v2/, /v2/_catalog, /v2/<name>/tags/list and /v2/<name>/referrers/<digest>. */
import { RegistryError } from '../http/errors';
import { sendJson } from '../http/respond';
import type { RequestContext } from '../http/context';
import { OCI_INDEX } from '../oci/media-types';
import { digestParam, pageParams, paginate, repositoryParam } from './validate';

function linkHeader(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export async function apiBase(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, {});
}

/** Lists only the repositories the caller may read. */
export async function catalog(ctx: RequestContext): Promise<void> {
  const { n, last } = pageParams(ctx.query);
  const { store, auth } = ctx.parts;
  const readable = (await store.listRepositories()).filter((repo) => auth.canRead(ctx.identity, repo));
  const { page, next } = paginate(readable, n, last);
  sendJson(ctx.res, 200, { repositories: page }, next !== undefined ? { Link: linkHeader('/v2/_catalog', n!, next) } : {});
}

export async function tagsList(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const { n, last } = pageParams(ctx.query);
  const { store } = ctx.parts;
  if (!(await store.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to the registry`);
  const { page, next } = paginate(await store.listTags(name), n, last);
  sendJson(ctx.res, 200, { name, tags: page }, next !== undefined ? { Link: linkHeader(`/v2/${name}/tags/list`, n!, next) } : {});
}

/** Spec "Listing Referrers": always 200 with an image index, filtered by ?artifactType=. */
export async function referrers(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const digest = digestParam(ctx.params.digest);
  const artifactType = ctx.query.get('artifactType');
  let manifests = await ctx.parts.store.listReferrers(name, digest);
  const headers: Record<string, string> = {};
  if (artifactType !== null) {
    manifests = manifests.filter((m) => m.artifactType === artifactType);
    headers['OCI-Filters-Applied'] = 'artifactType';
  }
  sendJson(ctx.res, 200, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, headers, OCI_INDEX);
}
