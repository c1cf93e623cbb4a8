/**
 * The soak's operations and their mix. Each operation picks a repository and what to act on
 * from the model (model.ts), takes the locks it needs (or returns false to let the worker pick
 * another operation), talks to the registry through registry-ops.ts, and updates the model
 * only after the server acknowledged. `run.name` is the row of the report it counts in.
 *
 * Who does what (server.ts): `pusher` pushes, moves and deletes; pulls and lists are made by
 * anonymous callers (public/** only), `reader` and `pusher`; refusals the access rules demand
 * (an anonymous push, a reader's delete, a wrong password) are expected and checked to be
 * refused exactly so, never counted as errors.
 */
import { errorCode, type SoakClient } from './http';
import { imageSize, MANIFEST_TYPE, type ImageFactory, type ImageSpec } from './images';
import { MAX_TAGS, PINNED_TAG, RepoModel, tagListProblems, type LockMode } from './model';
import { expectRefusal, expectStatus, pullImage, pushImage, SoakError, uploadLocation, type PushContext } from './registry-ops';
import type { GcTimings } from './server';

const KiB = 1024;

export interface Clients {
  anonymous: SoakClient;
  reader: SoakClient;
  pusher: SoakClient;
  /** `reader` with a wrong password. */
  wrongPassword: SoakClient;
}

export interface Abandoned {
  repo: string;
  location: string;
  /** Client time after the last write to the session. */
  atMs: number;
}

export interface Workload extends PushContext {
  repos: RepoModel[];
  images: ImageFactory;
  clients: Clients;
  gc: GcTimings;
  nextId(): number;
  /** Upload sessions left behind, for the check that GC purges them. */
  abandoned: Abandoned[];
}

export interface OpRun {
  /** The report row this run counts in; set before the first request. */
  name: string;
}

/** true: ran; false: nothing to do right now (what it needed was locked or absent). */
export type Operation = (w: Workload, run: OpRun) => Promise<boolean>;

/**
 * Slack over perch.uploadTTL before an abandoned upload must have been purged: the collection
 * that finds it expired starts up to a gcInterval after a run that may take many seconds on a
 * busy machine (up to 9 s seen under `npm test`), so two slow runs and an interval, doubled.
 */
const PURGE_SLACK_MS = 60_000;

// --- helpers ---------------------------------------------------------------------------------

function readerFor(w: Workload, repo: RepoModel): SoakClient {
  const { anonymous, reader, pusher } = w.clients;
  return repo.isPublic ? w.rng.weighted([[anonymous, 2], [reader, 1], [pusher, 1]] as const) : w.rng.pick([reader, pusher]);
}

function anyReader(w: Workload): SoakClient {
  return w.rng.pick([w.clients.anonymous, w.clients.reader, w.clients.pusher]);
}

function readableBy(w: Workload, client: SoakClient): string[] {
  return w.repos.filter((r) => r.isPublic || client !== w.clients.anonymous).map((r) => r.name).sort();
}

function lockTag(repo: RepoModel, tag: string, mode: LockMode): Array<[string, LockMode]> {
  return [[`tag:${tag}`, mode], [`digest:${repo.tags.get(tag)}`, 'shared']];
}

function json<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new SoakError(`${what}: not JSON: ${body.toString('utf8', 0, 200)}`);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** GET a paginated list (`key` of each page), following Link headers. */
async function listPages(client: SoakClient, first: string, key: 'repositories' | 'tags'): Promise<string[]> {
  const items: string[] = [];
  let next: string | undefined = first;
  for (let pages = 0; next; pages++) {
    if (pages > 100) throw new SoakError(`${client.who}: GET ${first}: more than 100 pages`);
    const reply = await expectStatus(client, 200, { method: 'GET', url: next });
    items.push(...(json<Record<string, string[] | null>>(reply.body, `GET ${next}`)[key] ?? []));
    const link = reply.headers.link;
    next = /<([^>]+)>;\s*rel="?next"?/.exec(typeof link === 'string' ? link : '')?.[1];
  }
  return items;
}

function pickRepo(w: Workload): RepoModel {
  return w.rng.pick(w.repos);
}

/** Runs `body` holding `wants`, or returns false if they are taken. */
async function withLocks(repo: RepoModel, wants: Array<[string, LockMode]>, body: () => Promise<void>): Promise<boolean> {
  const release = repo.tryLock(wants);
  if (!release) return false;
  try {
    await body();
  } finally {
    release();
  }
  return true;
}

// --- push ------------------------------------------------------------------------------------

/** A new image under a new tag (or, when the repository has its fill of tags, a delete instead). */
const push: Operation = async (w, run) => {
  const repo = pickRepo(w);
  if (repo.movableTags().length >= MAX_TAGS) return deleteTagIn(w, run, repo);
  const tag = `t${w.nextId()}`;
  const image = w.images.next();
  return withLocks(repo, [[`tag:${tag}`, 'exclusive'], [`digest:${image.digest}`, 'exclusive']], async () => {
    run.name = 'push (new tag)';
    repo.beginTagChange(tag);
    try {
      const sent = await pushImage(w, w.clients.pusher, repo.name, image, tag);
      if (sent !== null) {
        repo.tags.set(tag, image.digest);
        repo.recordPut(image, sent);
      }
    } catch (err) {
      repo.forgetTag(tag);
      throw err;
    }
    repo.endTagChange(tag);
  });
};

/** An untagged image, pushed by digest: GC may take it once gcDelay has passed. */
const pushByDigest: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const image = w.images.next();
  return withLocks(repo, [[`digest:${image.digest}`, 'exclusive']], async () => {
    run.name = 'push (by digest)';
    const sent = await pushImage(w, w.clients.pusher, repo.name, image, image.digest);
    if (sent !== null) repo.recordPut(image, sent);
  });
};

/** Re-points a tag: at a new image, at a manifest another tag holds, or at an untagged one (whose blobs GC may have taken: the push uploads them again). */
const tagMove: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const movable = repo.movableTags();
  if (movable.length === 0) return false;
  const tag = w.rng.pick(movable);
  const from = repo.tags.get(tag)!;
  const wants: Array<[string, LockMode]> = [[`tag:${tag}`, 'exclusive'], [`digest:${from}`, 'shared']];
  let target: ImageSpec;
  const kind = w.rng.weighted([['new', 4], ['tagged', 3], ['untagged', 3]] as const);
  if (kind === 'tagged') {
    const others = movable.filter((t) => t !== tag && repo.tags.get(t) !== from);
    if (others.length === 0) return false;
    const other = w.rng.pick(others);
    target = repo.images.get(repo.tags.get(other)!)!;
    wants.push(...lockTag(repo, other, 'shared'));
  } else if (kind === 'untagged') {
    const untagged = repo.untaggedDigests();
    if (untagged.length === 0) return false;
    target = repo.images.get(w.rng.pick(untagged))!;
    wants.push([`digest:${target.digest}`, 'shared']);
  } else {
    target = w.images.next();
    wants.push([`digest:${target.digest}`, 'exclusive']);
  }
  return withLocks(repo, wants, async () => {
    run.name = `tag move (to ${{ new: 'a new image', tagged: 'a tagged manifest', untagged: 'an untagged manifest' }[kind]})`;
    repo.beginTagChange(tag);
    let sent: number | null;
    try {
      sent = await pushImage(w, w.clients.pusher, repo.name, target, tag);
      if (sent !== null) {
        repo.tags.set(tag, target.digest);
        repo.recordPut(target, sent);
      }
    } catch (err) {
      repo.forgetTag(tag);
      throw err;
    }
    repo.endTagChange(tag);
    if (sent === null) return;
    const head = await expectStatus(w.clients.pusher, 200, { method: 'HEAD', url: `/v2/${repo.name}/manifests/${tag}`, headers: { Accept: MANIFEST_TYPE } });
    if (head.headers['docker-content-digest'] !== target.digest) throw new SoakError(`tag ${repo.name}:${tag} moved to ${target.digest}, but HEAD says ${head.headers['docker-content-digest']}`);
  });
};

// --- delete ----------------------------------------------------------------------------------

/** DELETE a tag (the manifest stays, untagged unless another tag holds it); the tag then answers 404. */
const deleteTag: Operation = (w, run) => deleteTagIn(w, run, pickRepo(w));

async function deleteTagIn(w: Workload, run: OpRun, repo: RepoModel): Promise<boolean> {
  const movable = repo.movableTags();
  if (movable.length === 0) return false;
  const tag = w.rng.pick(movable);
  return withLocks(repo, lockTag(repo, tag, 'exclusive'), async () => {
    run.name = 'delete tag';
    const client = w.clients.pusher;
    repo.beginTagChange(tag);
    try {
      await expectStatus(client, 202, { method: 'DELETE', url: `/v2/${repo.name}/manifests/${tag}` });
    } catch (err) {
      repo.forgetTag(tag);
      throw err;
    }
    repo.tags.delete(tag);
    repo.endTagChange(tag);
    await expectRefusal(client, 404, 'MANIFEST_UNKNOWN', { method: 'GET', url: `/v2/${repo.name}/manifests/${tag}`, headers: { Accept: MANIFEST_TYPE } });
  });
}

/**
 * DELETE a manifest by digest: a tagged one (its tags go with it) or an untagged one (which GC
 * may have taken already, once it is old enough). Afterwards the digest and its tags answer 404.
 */
const deleteDigest: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const tagged = w.rng.chance(0.6);
  const candidates = tagged ? [...new Set(repo.tags.values())].filter((d) => d !== repo.pinnedDigest) : repo.untaggedDigests();
  if (candidates.length === 0) return false;
  const digest = w.rng.pick(candidates);
  const tags = repo.tagsPointingAt(digest);
  const wants: Array<[string, LockMode]> = [[`digest:${digest}`, 'exclusive'], ...tags.map((t): [string, LockMode] => [`tag:${t}`, 'exclusive'])];
  return withLocks(repo, wants, async () => {
    run.name = `delete digest (${tags.length ? 'tagged' : 'untagged'})`;
    const client = w.clients.pusher;
    const put = repo.lastPutMs.get(digest);
    for (const t of tags) repo.beginTagChange(t);
    try {
      const reply = await expectStatus(client, [202, 404], { method: 'DELETE', url: `/v2/${repo.name}/manifests/${digest}` });
      if (reply.status === 404) {
        if (tags.length || RepoModel.young(put, Date.now(), w.graceMs) || errorCode(reply) !== 'MANIFEST_UNKNOWN') {
          throw new SoakError(`pusher: DELETE ${repo.name}@${digest}: 404 ${errorCode(reply)}, but it must still be there (${tags.length ? `tags ${tags.join(', ')}` : `put ${Date.now() - put!} ms ago`})`);
        }
        w.expected('delete of an untagged manifest collected by GC: 404 MANIFEST_UNKNOWN');
      }
    } catch (err) {
      for (const t of tags) repo.forgetTag(t);
      repo.dropManifest(digest);
      throw err;
    }
    for (const t of tags) {
      repo.tags.delete(t);
      repo.endTagChange(t);
    }
    repo.dropManifest(digest);
    for (const ref of [digest, ...tags]) {
      await expectRefusal(client, 404, 'MANIFEST_UNKNOWN', { method: 'GET', url: `/v2/${repo.name}/manifests/${ref}`, headers: { Accept: MANIFEST_TYPE } });
    }
  });
};

// --- pull ------------------------------------------------------------------------------------

/** Pull by tag: manifest (sometimes HEAD first) and every blob, hashed. */
const pullTag: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const tag = w.rng.pick([...repo.tags.keys()]);
  const client = readerFor(w, repo);
  const image = repo.images.get(repo.tags.get(tag)!)!;
  return withLocks(repo, lockTag(repo, tag, 'shared'), async () => {
    run.name = `pull by tag (${client.who})`;
    await pullImage(w, client, repo.name, tag, image, () => 'must');
  });
};

/** Pull by digest: of a tagged manifest (must be there) or of an untagged one (may be collected). */
const pullDigest: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const client = readerFor(w, repo);
  if (w.rng.chance(0.6)) {
    const tag = w.rng.pick([...repo.tags.keys()]);
    const image = repo.images.get(repo.tags.get(tag)!)!;
    return withLocks(repo, lockTag(repo, tag, 'shared'), async () => {
      run.name = 'pull by digest (tagged)';
      await pullImage(w, client, repo.name, image.digest, image, () => 'must');
    });
  }
  const untagged = repo.untaggedDigests();
  if (untagged.length === 0) return false;
  const image = repo.images.get(w.rng.pick(untagged))!;
  return withLocks(repo, [[`digest:${image.digest}`, 'shared']], async () => {
    run.name = 'pull by digest (untagged)';
    const put = repo.lastPutMs.get(image.digest);
    await pullImage(w, client, repo.name, image.digest, image, () => (RepoModel.young(put, Date.now(), w.graceMs) ? 'must' : 'maybe'));
  });
};

// --- lists -----------------------------------------------------------------------------------

/** /v2/_catalog (sometimes a page at a time): exactly the repositories the caller may read. */
const catalog: Operation = async (w, run) => {
  const client = anyReader(w);
  run.name = 'catalog';
  const n = w.rng.chance(0.3) ? `?n=2` : '';
  const names = await listPages(client, `/v2/_catalog${n}`, 'repositories');
  const expected = readableBy(w, client);
  if (!sameList([...names].sort(), expected)) throw new SoakError(`${client.who}: catalog ${JSON.stringify(names)}, expected ${JSON.stringify(expected)}`);
  return true;
};

/** /v2/<name>/tags/list (sometimes a page at a time), checked against the model. */
const tagsList: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const client = readerFor(w, repo);
  run.name = 'tags list';
  const since = repo.sequence;
  const n = w.rng.chance(0.3) ? `?n=3` : '';
  const tags = await listPages(client, `/v2/${repo.name}/tags/list${n}`, 'tags');
  const problems = tagListProblems(repo, tags, since);
  if (problems.length) throw new SoakError(`${client.who}: GET /v2/${repo.name}/tags/list: ${problems.join('; ')}`);
  return true;
};

// --- UI --------------------------------------------------------------------------------------

interface UiViewer {
  user: string | null;
  login: boolean;
}

function checkViewer(client: SoakClient, w: Workload, view: UiViewer, what: string): void {
  const user = client === w.clients.anonymous ? null : client.who;
  if (view.user !== user || view.login !== true) throw new SoakError(`${client.who}: ${what}: viewer ${JSON.stringify({ user: view.user, login: view.login })}, expected user ${user}`);
}

/** The UI's repository list: exactly what the caller may read, each with its pinned tag at least. */
const uiRepositories: Operation = async (w, run) => {
  const client = anyReader(w);
  run.name = 'ui: repositories';
  const reply = await expectStatus(client, 200, { method: 'GET', url: '/_ui/api/repositories' });
  const view = json<UiViewer & { repositories: Array<{ name: string; tags: number; lastPushedMs: number | null }> }>(reply.body, 'ui repositories');
  checkViewer(client, w, view, 'ui repositories');
  const names = view.repositories.map((r) => r.name).sort();
  if (!sameList(names, readableBy(w, client))) throw new SoakError(`${client.who}: ui repositories ${JSON.stringify(names)}, expected ${JSON.stringify(readableBy(w, client))}`);
  for (const row of view.repositories) {
    if (row.tags < 1 || typeof row.lastPushedMs !== 'number') throw new SoakError(`${client.who}: ui repositories: row ${JSON.stringify(row)} (every repository keeps its pinned tag)`);
  }
  return true;
};

/** The UI's tag rows: the listing checked like tags/list, and each stable tag's digest and size. */
const uiTags: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const client = readerFor(w, repo);
  run.name = 'ui: tags';
  const since = repo.sequence;
  const reply = await expectStatus(client, 200, { method: 'GET', url: `/_ui/api/repositories/${repo.name}/tags/list` });
  const view = json<UiViewer & { repository: string; tags: Array<{ tag: string; digest: string; kind: string; size: number; mediaType: string }> }>(reply.body, 'ui tags');
  checkViewer(client, w, view, 'ui tags');
  const problems = tagListProblems(repo, view.tags.map((t) => t.tag), since);
  for (const row of view.tags) {
    if (!repo.stableSince(row.tag, since) || !repo.tags.has(row.tag)) continue;
    const image = repo.images.get(repo.tags.get(row.tag)!)!;
    if (row.digest !== image.digest || row.size !== imageSize(image) || row.kind !== 'image' || row.mediaType !== MANIFEST_TYPE) {
      problems.push(`row ${JSON.stringify(row)}, expected digest ${image.digest}, size ${imageSize(image)}, kind image`);
    }
  }
  if (problems.length) throw new SoakError(`${client.who}: GET /_ui/api/repositories/${repo.name}/tags/list: ${problems.join('; ')}`);
  return true;
};

interface ManifestView extends UiViewer {
  repository: string;
  digest: string;
  mediaType: string;
  kind: string;
  manifestSize: number;
  size: number;
  pushedMs?: number;
  tags: string[];
  config?: { digest: string; size: number };
  layers: Array<{ digest: string; size: number }>;
  platform?: { os: string; architecture: string };
}

function manifestViewProblems(view: ManifestView, repo: RepoModel, image: ImageSpec, tag: string | undefined): string[] {
  const problems: string[] = [];
  const expect = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what} ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  expect('repository', view.repository, repo.name);
  expect('digest', view.digest, image.digest);
  expect('mediaType', view.mediaType, MANIFEST_TYPE);
  expect('kind', view.kind, 'image');
  expect('manifestSize', view.manifestSize, image.manifest.length);
  expect('size', view.size, imageSize(image));
  expect('config', view.config && [view.config.digest, view.config.size], [image.config.digest, image.config.size]);
  expect('layers', view.layers.map((l) => [l.digest, l.size]), image.layers.map((l) => [l.digest, l.size]));
  expect('platform', view.platform && [view.platform.os, view.platform.architecture], ['linux', 'amd64']);
  if (tag !== undefined) {
    if (!view.tags.includes(tag)) problems.push(`tags ${JSON.stringify(view.tags)} lack ${tag}`);
    if (typeof view.pushedMs !== 'number') problems.push(`no pushedMs for a tag`);
  }
  for (const t of view.tags) if (!repo.knows(t)) problems.push(`tags lists ${t}, which the soak never pushed`);
  return problems;
}

/** The UI's manifest page data: by tag (must be there) or by an untagged digest (may be collected). */
const uiManifest: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const client = readerFor(w, repo);
  const byTag = w.rng.chance(0.7);
  let tag: string | undefined;
  let image: ImageSpec;
  let wants: Array<[string, LockMode]>;
  if (byTag) {
    tag = w.rng.pick([...repo.tags.keys()]);
    image = repo.images.get(repo.tags.get(tag)!)!;
    wants = lockTag(repo, tag, 'shared');
  } else {
    const untagged = repo.untaggedDigests();
    if (untagged.length === 0) return false;
    image = repo.images.get(w.rng.pick(untagged))!;
    wants = [[`digest:${image.digest}`, 'shared']];
  }
  return withLocks(repo, wants, async () => {
    run.name = `ui: manifest (${byTag ? 'tag' : 'untagged digest'})`;
    const put = repo.lastPutMs.get(image.digest);
    const url = `/_ui/api/repositories/${repo.name}/manifests/${tag ?? image.digest}`;
    const reply = await expectStatus(client, [200, 404], { method: 'GET', url });
    if (reply.status === 404) {
      if (byTag || RepoModel.young(put, Date.now(), w.graceMs) || errorCode(reply) !== 'MANIFEST_UNKNOWN') throw new SoakError(`${client.who}: GET ${url}: 404 ${errorCode(reply)}, but it must still be there`);
      w.expected('ui manifest of an untagged manifest collected by GC: 404 MANIFEST_UNKNOWN');
      return;
    }
    const view = json<ManifestView>(reply.body, `GET ${url}`);
    checkViewer(client, w, view, url);
    const problems = manifestViewProblems(view, repo, image, tag);
    if (problems.length) throw new SoakError(`${client.who}: GET ${url}: ${problems.join('; ')}`);
  });
};

/** The page and its script, anonymously, and the ETag revalidation a browser makes. */
const uiPage: Operation = async (w, run) => {
  run.name = 'ui: page';
  const client = w.clients.anonymous;
  const page = await expectStatus(client, 200, { method: 'GET', url: '/' });
  if (!String(page.headers['content-type']).startsWith('text/html')) throw new SoakError(`GET / answered Content-Type ${page.headers['content-type']}`);
  const script = await expectStatus(client, 200, { method: 'GET', url: '/_ui/app.js' });
  const etag = script.headers.etag;
  if (typeof etag !== 'string') throw new SoakError('GET /_ui/app.js has no ETag');
  await expectStatus(client, 304, { method: 'GET', url: '/_ui/app.js', headers: { 'If-None-Match': etag } });
  return true;
};

// --- refusals --------------------------------------------------------------------------------

/** One of the refusals the access rules demand, checked to be exactly that refusal. */
const refusal: Operation = async (w, run) => {
  const { anonymous, reader, wrongPassword, pusher } = w.clients;
  const publicRepo = w.rng.pick(w.repos.filter((r) => r.isPublic));
  const teamRepo = w.rng.pick(w.repos.filter((r) => !r.isPublic));
  const pinned = teamRepo.images.get(teamRepo.pinnedDigest)!;
  const kinds: Array<[string, () => Promise<unknown>]> = [
    ['anonymous push: 401', () => expectRefusal(anonymous, 401, 'UNAUTHORIZED', { method: 'POST', url: `/v2/${publicRepo.name}/blobs/uploads/` })],
    ['anonymous manifest PUT: 401', () => expectRefusal(anonymous, 401, 'UNAUTHORIZED', { method: 'PUT', url: `/v2/${publicRepo.name}/manifests/anon`, headers: { 'Content-Type': MANIFEST_TYPE }, body: pinned.manifest })],
    ['anonymous pull of a private repository: 401', () => expectRefusal(anonymous, 401, 'UNAUTHORIZED', { method: 'GET', url: `/v2/${teamRepo.name}/manifests/${PINNED_TAG}` })],
    ['anonymous ui tags of a private repository: 401', () => expectRefusal(anonymous, 401, 'UNAUTHORIZED', { method: 'GET', url: `/_ui/api/repositories/${teamRepo.name}/tags/list` })],
    ['reader push: 403', () => expectRefusal(reader, 403, 'DENIED', { method: 'POST', url: `/v2/${teamRepo.name}/blobs/uploads/` })],
    ['reader tag move: 403', () => expectRefusal(reader, 403, 'DENIED', { method: 'PUT', url: `/v2/${teamRepo.name}/manifests/${PINNED_TAG}`, headers: { 'Content-Type': MANIFEST_TYPE }, body: pinned.manifest })],
    ['reader delete: 403', () => expectRefusal(reader, 403, 'DENIED', { method: 'DELETE', url: `/v2/${teamRepo.name}/manifests/${teamRepo.pinnedDigest}` })],
    ['wrong password: 401', () => expectRefusal(wrongPassword, 401, 'UNAUTHORIZED', { method: 'GET', url: '/v2/_catalog' })],
    ['unknown tag: 404 MANIFEST_UNKNOWN', () => expectRefusal(pusher, 404, 'MANIFEST_UNKNOWN', { method: 'GET', url: `/v2/${teamRepo.name}/manifests/never-${w.nextId()}` })],
    ['unknown blob: 404 BLOB_UNKNOWN', () => expectRefusal(pusher, 404, 'BLOB_UNKNOWN', { method: 'GET', url: `/v2/${publicRepo.name}/blobs/sha256:${'0'.repeat(63)}${w.rng.int(1, 9)}` })],
  ];
  const [what, act] = w.rng.pick(kinds);
  run.name = 'refusals (expected)';
  await act();
  w.expected(what);
  return true;
};

// --- uploads left behind ---------------------------------------------------------------------

/** Starts an upload and writes a chunk, then cancels it (the session then answers 404) or walks away (GC purges it). */
const uploadLeftBehind: Operation = async (w, run) => {
  const repo = pickRepo(w);
  const client = w.clients.pusher;
  const cancel = w.rng.chance(0.5);
  run.name = cancel ? 'upload cancelled' : 'upload abandoned';
  const start = await expectStatus(client, 202, { method: 'POST', url: `/v2/${repo.name}/blobs/uploads/` });
  const chunk = Buffer.alloc(64 * KiB + w.rng.int(0, 999), w.rng.int(0, 255));
  const patched = await expectStatus(client, 202, {
    method: 'PATCH',
    url: uploadLocation(client, start, 'POST upload'),
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${chunk.length - 1}` },
    body: chunk,
  });
  const next = uploadLocation(client, patched, 'PATCH');
  if (cancel) {
    await expectStatus(client, 204, { method: 'DELETE', url: next });
    await expectRefusal(client, 404, 'BLOB_UPLOAD_UNKNOWN', { method: 'GET', url: next });
  } else {
    w.abandoned.push({ repo: repo.name, location: next, atMs: Date.now() });
  }
  return true;
};

/** An upload abandoned more than uploadTTL (and some slack) ago must have been purged by GC. */
const purgeCheck: Operation = async (w, run) => {
  const due = w.abandoned.findIndex((a) => Date.now() - a.atMs > w.gc.uploadTtlMs + PURGE_SLACK_MS);
  if (due < 0) return false;
  const [upload] = w.abandoned.splice(due, 1);
  run.name = 'abandoned upload purged';
  const reply = await w.clients.pusher.request({ method: 'GET', url: upload.location });
  if (reply.status !== 404 || errorCode(reply) !== 'BLOB_UPLOAD_UNKNOWN') {
    throw new SoakError(`upload ${upload.location} abandoned ${Math.round((Date.now() - upload.atMs) / 1000)} s ago (uploadTTL ${w.gc.uploadTtlMs / 1000} s) answers ${reply.status} ${errorCode(reply) ?? ''}: GC did not purge it`);
  }
  return true;
};

/** The mix: weights are relative frequencies. */
export const OPERATIONS: ReadonlyArray<readonly [Operation, number]> = [
  [push, 16],
  [pushByDigest, 3],
  [tagMove, 9],
  [deleteTag, 5],
  [deleteDigest, 5],
  [pullTag, 22],
  [pullDigest, 8],
  [catalog, 3],
  [tagsList, 5],
  [uiRepositories, 3],
  [uiTags, 4],
  [uiManifest, 5],
  [uiPage, 1],
  [refusal, 5],
  [uploadLeftBehind, 2],
  [purgeCheck, 2],
];

/** After the run, with nothing else going on: every tag the model holds pulls back whole, and every list is exact. */
export async function finalCheck(w: Workload): Promise<string[]> {
  const problems: string[] = [];
  const note = (err: unknown) => problems.push(err instanceof Error ? err.message : String(err));
  for (const repo of w.repos) {
    const since = repo.sequence;
    try {
      const listed = await listPages(w.clients.pusher, `/v2/${repo.name}/tags/list`, 'tags');
      problems.push(...tagListProblems(repo, listed, since));
    } catch (err) {
      note(err);
    }
    for (const [tag, digest] of repo.tags) {
      try {
        await pullImage(w, w.clients.pusher, repo.name, tag, repo.images.get(digest)!, () => 'must');
      } catch (err) {
        note(err);
      }
    }
  }
  return problems;
}

