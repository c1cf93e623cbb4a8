/**
 * Plain HTTP reads of the distribution API, used by the client suites to check what a client
 * did from the registry's side: the digest a tag resolves to, the tag list, the catalog, and
 * the OCI error a deleted manifest answers with. Kept separate from the clients so a client
 * that misreports its own success cannot make a test pass.
 */

/** Every manifest type a client may have pushed (distribution-spec: Accept lists them). */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ManifestResponse {
  status: number;
  digest: string | null;
  contentType: string | null;
  body: Buffer;
}

export interface Credentials {
  username: string;
  password: string;
}

function headers(extra: Record<string, string>, auth?: Credentials): Record<string, string> {
  if (!auth) return extra;
  return { ...extra, Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

export async function getManifest(base: string, repo: string, ref: string, auth?: Credentials): Promise<ManifestResponse> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { headers: headers({ Accept: MANIFEST_ACCEPT }, auth) });
  return {
    status: res.status,
    digest: res.headers.get('docker-content-digest'),
    contentType: res.headers.get('content-type'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** The status and first OCI error code of a manifest GET, e.g. { status: 404, code: 'MANIFEST_UNKNOWN' }. */
export async function manifestError(base: string, repo: string, ref: string, auth?: Credentials): Promise<{ status: number; code: string | undefined }> {
  const res = await getManifest(base, repo, ref, auth);
  let code: string | undefined;
  try {
    code = (JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

/** GET /v2/<repo>/tags/list, following Link pages; [] when the repository has no tags (or is gone). */
export async function listTags(base: string, repo: string, auth?: Credentials): Promise<string[]> {
  const tags: string[] = [];
  let next: string | null = `/v2/${repo}/tags/list`;
  while (next) {
    const res: Response = await fetch(new URL(next, base), { headers: headers({}, auth) });
    if (res.status === 404) return tags;
    if (!res.ok) throw new Error(`GET ${next} answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
  }
  return tags;
}

/** GET /v2/_catalog, following Link pages. */
export async function catalog(base: string, auth?: Credentials): Promise<string[]> {
  const repos: string[] = [];
  let next: string | null = '/v2/_catalog';
  while (next) {
    const res: Response = await fetch(new URL(next, base), { headers: headers({}, auth) });
    if (!res.ok) throw new Error(`GET ${next} answered ${res.status}: ${await res.text()}`);
    repos.push(...(((await res.json()) as { repositories?: string[] }).repositories ?? []));
    next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
  }
  return repos;
}
