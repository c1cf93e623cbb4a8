/**
 * Which manifest PUT needs `create` and which `update`, against the bundled registry
 * (startRegistry), with Basic credentials and with Bearer tokens. zot's rule
 * (pkg/api/authz.go, manifestWriteAuthzChecks): a PUT over a tag that exists needs update only;
 * a PUT of a new tag, or by digest, needs create. A caller allowed neither is refused as any
 * push is: 403 DENIED, or 401 with the challenge when anonymous.
 *
 * Users on team/** (all may read): `updater` update, `creator` create, `both` create and
 * update, `reader` neither. `admin` pushes the images each row starts from.
 */
import { decodeJwt } from 'jose';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/oci-client';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { basic, bearer, tempDir, writeHtpasswd } from './harness';

const PASSWORDS = {
  admin: 'Admin-Pushes-1',
  updater: 'Only-Moves-Tags-2',
  creator: 'Only-Creates-3',
  both: 'Creates-And-Moves-4',
  reader: 'Only-Reads-5',
};
type User = keyof typeof PASSWORDS;

const ACCESS_CONTROL = {
  repositories: {
    'team/**': {
      policies: [
        { users: ['updater'], actions: ['read', 'update'] },
        { users: ['creator'], actions: ['read', 'create'] },
        { users: ['both'], actions: ['read', 'create', 'update'] },
        { users: ['reader'], actions: ['read'] },
      ],
    },
  },
  adminPolicy: { users: ['admin'], actions: ['read', 'create', 'update', 'delete'] },
};

const REPO = 'team/app';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const LAYER = Buffer.from('one layer, shared by every manifest of this file\n');

/** A manifest over the shared blobs; `note` makes each one (and its digest) unique. */
function manifest(note: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(CONFIG), size: CONFIG.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(LAYER), size: LAYER.length }],
      annotations: { note },
    }),
  );
}

function putManifest(registry: RunningRegistry, reference: string, body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${registry.url}/v2/${REPO}/manifests/${reference}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': MANIFEST_TYPE, ...headers } });
}

/** The digest `tag` resolves to, or null when it does not exist (read as admin). */
async function tagDigest(registry: RunningRegistry, reference: string): Promise<string | null> {
  const res = await fetch(`${registry.url}/v2/${REPO}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPE, ...basic('admin', PASSWORDS.admin) } });
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return res.headers.get('docker-content-digest');
}

async function pushBlobs(registry: RunningRegistry): Promise<void> {
  for (const bytes of [CONFIG, LAYER]) {
    const res = await fetch(`${registry.url}/v2/${REPO}/blobs/uploads/?digest=${sha256(bytes)}`, {
      method: 'POST',
      body: new Uint8Array(bytes),
      headers: { 'Content-Type': 'application/octet-stream', ...basic('admin', PASSWORDS.admin) },
    });
    expect(res.status).toBe(201);
  }
}

/** Tags `tag` with a manifest of its own (as admin) and returns that manifest's digest. */
async function existingTag(registry: RunningRegistry, tag: string): Promise<string> {
  const body = manifest(`before ${tag}`);
  const res = await putManifest(registry, tag, body, basic('admin', PASSWORDS.admin));
  expect(res.status).toBe(201);
  return sha256(body);
}

interface Row {
  name: string;
  /** Who sends the PUT (null: anonymous). */
  user: User | null;
  /** What the PUT names: a tag that exists, a tag that does not, or the manifest's digest. */
  target: 'existing tag' | 'new tag' | 'digest';
  status: number;
  code?: string;
}

/** The rows both describes share: what the policy decides, whatever the credential. */
const ROWS: Row[] = [
  { name: 'update-only user overwrites an existing tag', user: 'updater', target: 'existing tag', status: 201 },
  { name: 'update-only user cannot create a new tag', user: 'updater', target: 'new tag', status: 403, code: 'DENIED' },
  { name: 'update-only user cannot push by digest (zot: a digest is never an existing tag)', user: 'updater', target: 'digest', status: 403, code: 'DENIED' },
  { name: 'create-only user cannot overwrite an existing tag', user: 'creator', target: 'existing tag', status: 403, code: 'DENIED' },
  { name: 'create-only user creates a new tag', user: 'creator', target: 'new tag', status: 201 },
  { name: 'create-only user pushes by digest', user: 'creator', target: 'digest', status: 201 },
  { name: 'user with both overwrites an existing tag', user: 'both', target: 'existing tag', status: 201 },
  { name: 'user with both creates a new tag', user: 'both', target: 'new tag', status: 201 },
  { name: 'user with neither cannot overwrite', user: 'reader', target: 'existing tag', status: 403, code: 'DENIED' },
  { name: 'user with neither cannot create', user: 'reader', target: 'new tag', status: 403, code: 'DENIED' },
  { name: 'anonymous caller cannot overwrite', user: null, target: 'existing tag', status: 401, code: 'UNAUTHORIZED' },
  { name: 'anonymous caller cannot create', user: null, target: 'new tag', status: 401, code: 'UNAUTHORIZED' },
];

/**
 * Runs one row: sets the target up, sends the PUT with `credential`, checks the answer, then
 * checks from the registry's side that the tag moved (or was created) exactly when allowed.
 */
async function runRow(registry: RunningRegistry, row: Row, index: number, credential: Record<string, string>): Promise<Response> {
  const tag = `row-${index}`;
  const before = row.target === 'existing tag' ? await existingTag(registry, tag) : null;
  const body = manifest(`row ${index}: ${row.name}`);
  const digest = sha256(body);
  const res = await putManifest(registry, row.target === 'digest' ? digest : tag, body, credential);
  expect(res.status).toBe(row.status);
  if (row.code) expect(((await res.clone().json()) as { errors: Array<{ code: string }> }).errors[0].code).toBe(row.code);
  const allowed = row.status === 201;
  if (allowed) expect(res.headers.get('docker-content-digest')).toBe(digest);
  // Refused: nothing changed. Allowed: the new manifest is there, under the tag if one was named.
  expect(await tagDigest(registry, digest)).toBe(allowed ? digest : null);
  if (row.target !== 'digest') expect(await tagDigest(registry, tag)).toBe(allowed ? digest : before);
  return res;
}

describe('manifest PUT with Basic credentials: create for a new tag, update for an existing one', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    const dir = tempDir('perch-manifest-write-');
    writeHtpasswd(join(dir, 'htpasswd'), PASSWORDS);
    registry = await startRegistry({ config: { http: { auth: { htpasswd: { path: join(dir, 'htpasswd') } }, accessControl: ACCESS_CONTROL } } });
    await pushBlobs(registry);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it.each(ROWS.map((row, index) => ({ ...row, index })))('$name -> $status', async (row) => {
    const res = await runRow(registry, row, row.index, row.user ? basic(row.user, PASSWORDS[row.user]) : {});
    expect(res.headers.get('www-authenticate')).toBe(row.status === 401 ? 'Basic realm="perch"' : null);
  });

  it('update alone does not start blob uploads (pushing new content needs create, as in zot)', async () => {
    const res = await fetch(`${registry.url}/v2/${REPO}/blobs/uploads/`, { method: 'POST', headers: basic('updater', PASSWORDS.updater) });
    expect(res.status).toBe(403);
  });
});

describe('manifest PUT with Bearer tokens: the token service grants push for update alone', () => {
  let registry: RunningRegistry;
  let home: string;
  const challenge = (params: string) => `Bearer realm="${registry.url}/v2/token",service="${registry.host}",${params}`;

  async function token(user: User | null, actions = 'pull,push'): Promise<string> {
    const scope = encodeURIComponent(`repository:${REPO}:${actions}`);
    const res = await fetch(`${registry.url}/v2/token?service=${registry.host}&scope=${scope}`, { headers: user ? basic(user, PASSWORDS[user]) : {} });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }

  beforeAll(async () => {
    const dir = tempDir('perch-manifest-write-');
    home = tempDir('perch-manifest-write-home-');
    writeHtpasswd(join(dir, 'htpasswd'), PASSWORDS);
    registry = await startRegistry({
      config: {
        http: { auth: { htpasswd: { path: join(dir, 'htpasswd') } }, accessControl: ACCESS_CONTROL },
        perch: { auth: { challenge: 'bearer', tokenKeyFile: join(dir, 'token.key') } },
      },
    });
    await pushBlobs(registry);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it.each([
    ['updater', ['pull', 'push']],
    ['creator', ['pull', 'push']],
    ['both', ['pull', 'push']],
    ['reader', ['pull']],
  ] as const)('a pull,push token for %s carries %j', async (user, actions) => {
    expect(decodeJwt(await token(user)).access).toEqual([{ type: 'repository', name: REPO, actions }]);
  });

  it.each(ROWS.map((row, index) => ({ ...row, index: index + ROWS.length })))('$name -> $status', async (row) => {
    const res = await runRow(registry, row, row.index, bearer(await token(row.user)));
    const scope = `scope="repository:${REPO}:pull,push"`;
    // Refused with a token: a known user gets 403 and the insufficient_scope challenge
    // (RFC 6750 §3.1); an anonymous token gets 401 so the client logs in.
    expect(res.headers.get('www-authenticate')).toBe(row.status === 201 ? null : challenge(`${scope},error="insufficient_scope"`));
  });

  it('anonymous caller without a token gets the challenge naming pull,push', async () => {
    const res = await putManifest(registry, 'anonymous', manifest('anonymous'), {});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge(`scope="repository:${REPO}:pull,push"`));
  });

  it('update-only user with a pull token is told to fetch a push token (401 insufficient_scope), not refused for good', async () => {
    const tag = 'pull-token';
    const before = await existingTag(registry, tag);
    const res = await putManifest(registry, tag, manifest('pull token'), bearer(await token('updater', 'pull')));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge(`scope="repository:${REPO}:pull,push",error="insufficient_scope"`));
    expect(await tagDigest(registry, tag)).toBe(before);
  });

  it('crane: an update-only user moves an existing tag to a manifest already in the repository', async () => {
    await existingTag(registry, 'crane-stable');
    const target = manifest('crane target');
    expect((await putManifest(registry, sha256(target), target, basic('admin', PASSWORDS.admin))).status).toBe(201);
    const env = { ...process.env, HOME: home, DOCKER_CONFIG: join(home, '.docker') };
    await runCommand('crane', ['auth', 'login', registry.host, '-u', 'updater', '--password-stdin'], { env, input: PASSWORDS.updater });
    await runCommand('crane', ['tag', `${registry.host}/${REPO}@${sha256(target)}`, 'crane-stable'], { env });
    expect(await tagDigest(registry, 'crane-stable')).toBe(sha256(target));
    const refused = await runCommand('crane', ['tag', `${registry.host}/${REPO}@${sha256(target)}`, 'crane-new'], { env, allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/DENIED/);
    expect(await tagDigest(registry, 'crane-new')).toBeNull();
  });
});
