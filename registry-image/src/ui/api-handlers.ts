/**
 * The browse UI's data endpoints. They sit in the route table with the same access as the OCI
 * API they summarise (the list like /v2/_catalog, a repository's data like its tags and
 * manifests), so the server has authenticated the caller and checked read access on the
 * repository before any of these run; the list is filtered with canRead, as the catalog is.
 * The JSON they answer is described in api-types.ts; every answer says who is looking and
 * how one may sign in (Viewer: the OpenID providers, and whether a session cookie is in use).
 */
import { requestChallengeContext } from '../auth/challenge';
import { cookieValues } from '../auth/session/cookies';
import { SESSION_COOKIE } from '../auth/session/sessions';
import type { RequestContext } from '../http/context';
import { RegistryError } from '../http/errors';
import { referenceParam, repositoryParam } from '../handlers/validate';
import type { StoredManifest } from '../storage/types';
import type { ManifestView, RepositoriesView, TagRow, TagsView, Viewer } from './api-types';
import { manifestFacts, platformName, platformOf, type ChildFacts } from './artifact';
import { artifactSize } from './artifact-size';
import { chartView } from './helm-chart';
import { mapLimit } from '../map-limit';
import { pullCommand } from './pull-command';
import { readJsonBlob } from './read-json-blob';
import { sendData } from './respond';

/** Files read at once per request (tag files, manifests). */
const PARALLEL = 8;

function viewer(ctx: RequestContext): Viewer {
  const auth = ctx.parts.config.http.auth;
  const providers = Object.values(auth?.openid?.providers ?? {}).map(({ id, name }) => ({ id, name }));
  // The session cookie counts only when no Authorization header overrode it (authenticator.ts).
  const session = ctx.identity.username !== null && ctx.req.headers.authorization === undefined && cookieValues(ctx.req, SESSION_COOKIE).some((v) => v !== '');
  return { user: ctx.identity.username, login: passwordLogin(ctx.parts.config) || providers.length > 0, providers, session };
}

/** Logins with a user name and password (what the browser's Basic dialog can answer). */
export function passwordLogin(config: RequestContext['parts']['config']): boolean {
  return config.http.auth?.htpasswd !== undefined || config.http.auth?.ldap !== undefined;
}

/** The registry as the browser reached it (or as http.externalUrl says), for pull commands. */
function registryAddress(ctx: RequestContext): { host: string; plainHttp: boolean } {
  const { service, realm } = requestChallengeContext(ctx.req, ctx.parts.config);
  return { host: service, plainHttp: realm.startsWith('http:') };
}

export async function repositories(ctx: RequestContext): Promise<void> {
  const { store, auth } = ctx.parts;
  const names = (await store.listRepositories()).filter((name) => auth.canRead(ctx.identity, name));
  const rows = await mapLimit(names, PARALLEL, async (name) => {
    const tags = await store.listTags(name);
    const infos = await mapLimit(tags, PARALLEL, (tag) => store.tagInfo(name, tag));
    const times = infos.flatMap((info) => (info ? [info.modifiedMs] : []));
    return { name, tags: tags.length, lastPushedMs: times.length ? Math.round(Math.max(...times)) : null };
  });
  const view: RepositoriesView = { ...viewer(ctx), repositories: rows };
  sendData(ctx, view);
}

async function existingRepository(ctx: RequestContext): Promise<string> {
  const name = repositoryParam(ctx.params.name);
  if (!(await ctx.parts.store.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to the registry`);
  return name;
}

export async function tags(ctx: RequestContext): Promise<void> {
  const name = await existingRepository(ctx);
  const { store } = ctx.parts;
  const address = registryAddress(ctx);
  const rows = await mapLimit(await store.listTags(name), PARALLEL, async (tag): Promise<TagRow | null> => {
    const info = await store.tagInfo(name, tag);
    const manifest = info && (await store.getManifest(name, info.digest));
    // Deleted between the listing and now: leave it out rather than show a broken row.
    if (!info || !manifest) return null;
    const facts = manifestFacts(manifest);
    return {
      tag,
      digest: info.digest,
      mediaType: manifest.mediaType,
      kind: facts.kind,
      ...(facts.artifactType ? { artifactType: facts.artifactType } : {}),
      size: await artifactSize(store, name, manifest, facts),
      pushedMs: Math.round(info.modifiedMs),
      platforms: facts.children.filter((c) => c.platform && !c.attestation).map((c) => platformName(c.platform!)),
      pull: pullCommand({ kind: facts.kind, ...address, repository: name, tag, digest: info.digest }),
    };
  });
  const view: TagsView = { ...viewer(ctx), repository: name, tags: rows.filter((r): r is TagRow => r !== null) };
  sendData(ctx, view);
}

export async function manifest(ctx: RequestContext): Promise<void> {
  const name = repositoryParam(ctx.params.name);
  const ref = referenceParam(ctx.params.reference);
  const { store } = ctx.parts;
  const info = ref.tag ? await store.tagInfo(name, ref.tag) : null;
  const digest = ref.digest ?? info?.digest;
  const stored = digest ? await store.getManifest(name, digest) : null;
  if (!stored) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${ctx.params.reference} is not in ${name}`);
  const facts = manifestFacts(stored);

  const view: ManifestView = {
    ...viewer(ctx),
    repository: name,
    reference: ctx.params.reference,
    digest: stored.digest,
    mediaType: stored.mediaType,
    kind: facts.kind,
    ...(facts.artifactType ? { artifactType: facts.artifactType } : {}),
    manifestSize: stored.body.length,
    size: await artifactSize(store, name, stored, facts),
    ...(info ? { pushedMs: Math.round(info.modifiedMs) } : {}),
    tags: await tagsPointingAt(ctx, name, stored.digest),
    ...(facts.annotations ? { annotations: facts.annotations } : {}),
    ...(facts.config ? { config: facts.config } : {}),
    layers: facts.layers,
    children: await childrenWithSizes(ctx, name, facts.children),
    referrers: (await store.listReferrers(name, stored.digest)).map(({ digest, mediaType, artifactType, size, annotations }) => ({
      digest,
      mediaType,
      size,
      ...(artifactType ? { artifactType } : {}),
      ...(annotations ? { annotations } : {}),
    })),
    ...(facts.subject ? { subject: facts.subject } : {}),
    pull: pullCommand({ kind: facts.kind, ...registryAddress(ctx), repository: name, tag: ref.tag, digest: stored.digest }),
  };
  if (facts.config && (facts.kind === 'image' || facts.kind === 'helm-chart')) {
    const config = await readJsonBlob(store, name, facts.config.digest);
    if (facts.kind === 'helm-chart') {
      const chart = chartView(config);
      if (chart) view.chart = chart;
    } else if (config && typeof config === 'object') {
      const c = config as Record<string, unknown>;
      const platform = platformOf(c);
      if (platform) view.platform = platform;
      if (typeof c.created === 'string') view.created = c.created;
    }
  }
  sendData(ctx, view);
}

async function tagsPointingAt(ctx: RequestContext, name: string, digest: string): Promise<string[]> {
  const { store } = ctx.parts;
  const all = await store.listTags(name);
  const targets = await mapLimit(all, PARALLEL, (tag) => store.resolveTag(name, tag));
  return all.filter((_, i) => targets[i] === digest);
}

/** An index's children, each with the bytes a pull of it fetches (its descriptor's size is the child manifest's only). */
async function childrenWithSizes(ctx: RequestContext, name: string, children: ChildFacts[]): Promise<ManifestView['children']> {
  const { store } = ctx.parts;
  return mapLimit(children, PARALLEL, async (child) => {
    const stored: StoredManifest | null = await store.getManifest(name, child.digest);
    return { ...child, pullSize: stored ? await artifactSize(store, name, stored) : child.size };
  });
}
