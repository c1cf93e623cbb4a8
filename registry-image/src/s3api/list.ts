/**
 * ListObjectsV2 and ListObjects (v1): the bucket's repositories and their tags as keys, in key
 * order, with prefix, delimiter (CommonPrefixes), max-keys, and a position to go on from
 * (continuation-token or start-after in v2, marker in v1). The continuation token is the last
 * key or common prefix returned, base64: opaque to clients, as S3's.
 *
 * Keys come from tags without reading manifests (object-key.ts derivedKey), except hashed tags,
 * whose key is in their manifest; size, ETag and date are read for the keys of the page only.
 * Repositories the caller may not read are left out, as are tags whose manifest is no object
 * (a multi-layer image, an index) and perch's reserved tags (`_s3-…`: the bucket record,
 * multipart uploads in progress).
 */
import { S3Error } from './errors';
import { derivedKey, inBucket, isHashedTag, keyDirectory } from './object-key';
import { requireBucket } from './object-lookup';
import { readObjectManifest, type ObjectInfo } from './object-manifest';
import { allow, may, type S3Request } from './request';
import { isReservedTag } from './upload-record';
import { sendXml } from './buckets';
import { el, isoTime, xmlDocument } from './xml';

interface Candidate {
  key: string;
  repository: string;
  tag: string;
}

interface Page {
  contents: Array<{ key: string; info: ObjectInfo; modifiedMs: number }>;
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned. */
  last: string | undefined;
}

async function candidates(r: S3Request, prefix: string): Promise<Candidate[]> {
  const { store } = r.parts;
  const out: Candidate[] = [];
  for (const repository of await store.listRepositories()) {
    if (!inBucket(r.bucket, repository)) continue;
    const dir = keyDirectory(r.bucket, repository);
    if (!dir.startsWith(prefix) && !prefix.startsWith(dir)) continue;
    if (repository !== r.bucket && !may(r, repository, 'read')) continue;
    for (const tag of await store.listTags(repository)) {
      // perch's own tags (the bucket record `_s3-bucket`, uploads in progress `_s3-upload-…`) are no objects.
      if (isReservedTag(tag)) continue;
      let key: string;
      if (repository === r.bucket && isHashedTag(tag)) {
        const digest = await store.resolveTag(repository, tag);
        const info = digest ? await readObjectManifest(store, repository, digest) : null;
        if (!info?.key) continue;
        key = info.key;
      } else {
        key = derivedKey(r.bucket, repository, tag);
      }
      if (key.startsWith(prefix)) out.push({ key, repository, tag });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function page(r: S3Request, prefix: string, delimiter: string, after: string | undefined, maxKeys: number): Promise<Page> {
  const { store } = r.parts;
  const result: Page = { contents: [], prefixes: [], truncated: false, last: undefined };
  let count = 0;
  for (const c of await candidates(r, prefix)) {
    if (after !== undefined && c.key <= after) continue;
    if (delimiter !== '') {
      const i = c.key.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        const common = c.key.slice(0, i + delimiter.length);
        if ((after !== undefined && common <= after) || common === result.prefixes[result.prefixes.length - 1]) continue;
        if (count >= maxKeys) {
          result.truncated = true;
          break;
        }
        result.prefixes.push(common);
        result.last = common;
        count++;
        continue;
      }
    }
    const tag = await store.tagInfo(c.repository, c.tag).catch(() => null);
    const info = tag ? await readObjectManifest(store, c.repository, tag.digest) : null;
    if (!tag || !info || (info.key !== undefined && info.key !== c.key)) continue;
    if (count >= maxKeys) {
      result.truncated = true;
      break;
    }
    result.contents.push({ key: c.key, info, modifiedMs: info.createdMs ?? tag.modifiedMs });
    result.last = c.key;
    count++;
  }
  return result;
}

function maxKeysOf(r: S3Request): number {
  const text = r.query.get('max-keys');
  if (text === undefined) return 1000;
  if (!/^\d+$/.test(text)) throw new S3Error('InvalidArgument', 'max-keys must be a whole number from 0 to 1000');
  return Math.min(1000, Number(text));
}

function render(r: S3Request, p: Page, encode: (s: string) => string, owner: boolean): string {
  const contents = p.contents
    .map(
      (o) =>
        `<Contents>${el('Key', encode(o.key))}${el('LastModified', isoTime(o.modifiedMs))}${el('ETag', o.info.etag)}${el('Size', o.info.size)}` +
        `${owner ? `<Owner>${el('ID', r.identity.username ?? 'anonymous')}${el('DisplayName', r.identity.username ?? 'anonymous')}</Owner>` : ''}${el('StorageClass', 'STANDARD')}</Contents>`,
    )
    .join('');
  const prefixes = p.prefixes.map((cp) => `<CommonPrefixes>${el('Prefix', encode(cp))}</CommonPrefixes>`).join('');
  return contents + prefixes;
}

async function start(r: S3Request): Promise<{ prefix: string; delimiter: string; encode: (s: string) => string; encoding: string | undefined; maxKeys: number }> {
  r.req.resume();
  allow(r, r.bucket, 'read');
  await requireBucket(r.parts, r.bucket);
  const encoding = r.query.get('encoding-type');
  if (encoding !== undefined && encoding !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request: only "url"');
  // With encoding-type=url, keys and prefixes go out percent-encoded (clients decode them).
  const encode = encoding === 'url' ? encodeURIComponent : (s: string) => s;
  return { prefix: r.query.get('prefix') ?? '', delimiter: r.query.get('delimiter') ?? '', encode, encoding, maxKeys: maxKeysOf(r) };
}

export async function listObjectsV2(r: S3Request): Promise<void> {
  const { prefix, delimiter, encode, encoding, maxKeys } = await start(r);
  const token = r.query.get('continuation-token');
  const startAfter = r.query.get('start-after');
  let after = startAfter;
  if (token !== undefined) {
    after = Buffer.from(token, 'base64').toString('utf8');
    if (token === '' || Buffer.from(after, 'utf8').toString('base64') !== token) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect');
  }
  const p = await page(r, prefix, delimiter, after, maxKeys);
  const inner =
    el('Name', r.bucket) +
    el('Prefix', encode(prefix)) +
    (delimiter ? el('Delimiter', encode(delimiter)) : '') +
    el('MaxKeys', maxKeys) +
    el('EncodingType', encoding) +
    el('KeyCount', p.contents.length + p.prefixes.length) +
    el('IsTruncated', p.truncated) +
    el('ContinuationToken', token) +
    (p.truncated && p.last !== undefined ? el('NextContinuationToken', Buffer.from(p.last, 'utf8').toString('base64')) : '') +
    el('StartAfter', startAfter === undefined ? undefined : encode(startAfter)) +
    render(r, p, encode, r.query.get('fetch-owner') === 'true');
  sendXml(r, 200, xmlDocument('ListBucketResult', inner));
}

export async function listObjectsV1(r: S3Request): Promise<void> {
  const { prefix, delimiter, encode, encoding, maxKeys } = await start(r);
  const marker = r.query.get('marker');
  const p = await page(r, prefix, delimiter, marker === '' ? undefined : marker, maxKeys);
  const inner =
    el('Name', r.bucket) +
    el('Prefix', encode(prefix)) +
    el('Marker', encode(marker ?? '')) +
    (delimiter ? el('Delimiter', encode(delimiter)) : '') +
    el('MaxKeys', maxKeys) +
    el('EncodingType', encoding) +
    el('IsTruncated', p.truncated) +
    (p.truncated && p.last !== undefined ? el('NextMarker', encode(p.last)) : '') +
    render(r, p, encode, true);
  sendXml(r, 200, xmlDocument('ListBucketResult', inner));
}
