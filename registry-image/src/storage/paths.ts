/**
 * Every path of the filesystem store, in one place.
 *
 *   <root>/
 *     blobs/<alg>/<hex[0:2]>/<hex>                      content (layers, configs, manifests)
 *     uploads/<id>                                       bytes of an upload session so far
 *     uploads/<id>.json                                  {"repository","startedMs"}
 *     repositories/<name...>/_layers/<alg>/<hex>         symlink to the blob: the repository holds it
 *     repositories/<name...>/_manifests/<alg>/<hex>      {"mediaType","subject"?}: holds this manifest
 *     repositories/<name...>/_tags/<tag>                 the digest the tag points at
 *     repositories/<name...>/_referrers/<alg>/<hex>/<alg>-<hex>
 *                                                        descriptor of a manifest whose subject is <alg>:<hex>
 *     tmp/                                               files being written, renamed into place
 *
 * Repository name components never start with `_` (names.ts), so `_layers` and friends
 * cannot collide with a nested repository. Callers validate names, tags and digests before
 * they get here; these functions also refuse anything that would leave the root.
 */
import { join } from 'node:path';
import { parseDigest } from '../oci/digest';
import { isRepositoryName, isTag } from '../oci/names';

export class StorePaths {
  constructor(readonly root: string) {}

  get blobsDir(): string {
    return join(this.root, 'blobs');
  }
  get uploadsDir(): string {
    return join(this.root, 'uploads');
  }
  get repositoriesDir(): string {
    return join(this.root, 'repositories');
  }
  get tmpDir(): string {
    return join(this.root, 'tmp');
  }

  blob(digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }
  /** The session's bytes; `uploadInfo` beside it says whose session it is. */
  uploadData(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
    return join(this.uploadsDir, id);
  }
  uploadInfo(id: string): string {
    return `${this.uploadData(id)}.json`;
  }
  repository(name: string): string {
    if (!isRepositoryName(name)) throw new Error(`invalid repository name ${JSON.stringify(name)}`);
    return join(this.repositoriesDir, name);
  }
  layerLink(name: string, digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return join(this.repository(name), '_layers', algorithm, hex);
  }
  layersDir(name: string): string {
    return join(this.repository(name), '_layers');
  }
  manifestLink(name: string, digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return join(this.repository(name), '_manifests', algorithm, hex);
  }
  manifestsDir(name: string): string {
    return join(this.repository(name), '_manifests');
  }
  tagsDir(name: string): string {
    return join(this.repository(name), '_tags');
  }
  tag(name: string, tag: string): string {
    if (!isTag(tag)) throw new Error(`invalid tag ${JSON.stringify(tag)}`);
    return join(this.tagsDir(name), tag);
  }
  referrersDir(name: string, subject: string): string {
    const { algorithm, hex } = checkedDigest(subject);
    return join(this.repository(name), '_referrers', algorithm, hex);
  }
  referrer(name: string, subject: string, digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return join(this.referrersDir(name, subject), `${algorithm}-${hex}`);
  }
}

export const UPLOAD_ID = /^[a-f0-9-]{36}$/;

function checkedDigest(digest: string) {
  const parsed = parseDigest(digest);
  if (!parsed) throw new Error(`invalid digest ${JSON.stringify(digest)}`);
  return parsed;
}
