/**
 * Every path of the filesystem store, in one place.
 *
 *   <root>/
 *     blobs/<alg>/<hex[0:2]>/<hex>                      content (layers, configs, manifests)
 *     uploads/<id>                                       bytes of an upload session so far
 *     uploads/<id>.json                                  {"repository","startedMs","acks":1}
 *     uploads/<id>.ack                                   record "<acknowledged> <before that>": byte counts
 *     repositories/<name...>/_layers/<alg>/<hex>         symlink to the blob: the repository holds it
 *     repositories/<name...>/_manifests/<alg>/<hex>      record {"mediaType","subject"?}: holds it
 *     repositories/<name...>/_tags/<tag>                 record: the digest it points at
 *     repositories/<name...>/_referrers/<alg>/<hex>/<alg>-<hex>
 *                                                        descriptor of a manifest whose subject is <alg>:<hex>
 *     tmp/                                               files being written, renamed into place
 *
 * A "record" is a symlink whose target is the value itself, not a path (symlink-record.ts):
 * written and read in one system call each. Stores from before then hold them as files.
 *
 * Repository name components never start with `_` (names.ts), so `_layers` and friends
 * cannot collide with a nested repository. Callers validate names, tags and digests before
 * they get here; these functions also refuse anything that would leave the root.
 */
import { resolve } from 'node:path';
import { parseDigest } from '../oci/digest';
import { isRepositoryName, isTag } from '../oci/names';

export class StorePaths {
  readonly root: string;
  readonly blobsDir: string;
  readonly uploadsDir: string;
  readonly repositoriesDir: string;
  readonly tmpDir: string;

  // Paths are built by concatenation, not path.join: every part is checked against a grammar
  // with no `.`-only or empty components, and join's normalising showed up in profiles.
  constructor(root: string) {
    this.root = resolve(root);
    this.blobsDir = `${this.root}/blobs`;
    this.uploadsDir = `${this.root}/uploads`;
    this.repositoriesDir = `${this.root}/repositories`;
    this.tmpDir = `${this.root}/tmp`;
  }

  blob(digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return `${this.blobsDir}/${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }
  /** The session's bytes; `uploadInfo` beside it says whose session it is. */
  uploadData(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
    return `${this.uploadsDir}/${id}`;
  }
  uploadInfo(id: string): string {
    return `${this.uploadData(id)}.json`;
  }
  /** The byte counts the session's last two acknowledged requests ended at (fs-store.ts, "acknowledged"). */
  uploadAck(id: string): string {
    return `${this.uploadData(id)}.ack`;
  }
  repository(name: string): string {
    if (!isRepositoryName(name)) throw new Error(`invalid repository name ${JSON.stringify(name)}`);
    return `${this.repositoriesDir}/${name}`;
  }
  layerLink(name: string, digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return `${this.layersDir(name)}/${algorithm}/${hex}`;
  }
  layersDir(name: string): string {
    return `${this.repository(name)}/_layers`;
  }
  manifestLink(name: string, digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return `${this.manifestsDir(name)}/${algorithm}/${hex}`;
  }
  manifestsDir(name: string): string {
    return `${this.repository(name)}/_manifests`;
  }
  tagsDir(name: string): string {
    return `${this.repository(name)}/_tags`;
  }
  tag(name: string, tag: string): string {
    if (!isTag(tag)) throw new Error(`invalid tag ${JSON.stringify(tag)}`);
    return `${this.tagsDir(name)}/${tag}`;
  }
  referrersDir(name: string, subject: string): string {
    const { algorithm, hex } = checkedDigest(subject);
    return `${this.repository(name)}/_referrers/${algorithm}/${hex}`;
  }
  referrer(name: string, subject: string, digest: string): string {
    const { algorithm, hex } = checkedDigest(digest);
    return `${this.referrersDir(name, subject)}/${algorithm}-${hex}`;
  }
}

export const UPLOAD_ID = /^[a-f0-9-]{36}$/;

function checkedDigest(digest: string) {
  const parsed = parseDigest(digest);
  if (!parsed) throw new Error(`invalid digest ${JSON.stringify(digest)}`);
  return parsed;
}
