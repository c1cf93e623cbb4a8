/**
 * What perch's S3 API keeps in the store and how it is reached (docs/s3api.md), driven with
 * boto3 (test/s3api/s3-ops.py) against the built server:
 *
 * - A multipart upload survives a restart: parts 1 and 2 go up (in parallel) to one perch
 *   process, it is stopped, a second one on the same storage root lists the upload and its
 *   parts, takes part 3 and completes it, and the object has the bytes of the file. Its
 *   `_s3-upload-…` tags show in the OCI tag list and never in ListObjectsV2. While the upload
 *   exists `perch gc` keeps its part blobs, even past storage.gcDelay; once it is completed or
 *   aborted, `perch gc` removes them, and the completed object still reads.
 * - The S3 listener over TLS (http.tls, a certificate a test CA signs), boto3 trusting the CA
 *   (`verify=`), and anonymous requests (no signature at all) under http.accessControl's
 *   anonymousPolicy: an unsigned GET and list of a public bucket work, an unsigned PUT is
 *   AccessDenied, an unsigned GET of another bucket too; curl --cacert reads the public object.
 *
 * Tools as in s3-clients.test.ts (scripts/install-tools.sh s3clients): without boto3 the file
 * skips, except in CI (CI=true), where it fails.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, makeCa } from '../helpers/certificates';
import { PERCH_BUNDLE, startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { boto3Call, haveBoto3, type Boto3Result } from './boto3-ops';

if (!haveBoto3 && process.env.CI) throw new Error('boto3 missing in CI: run scripts/install-tools.sh s3clients');
if (!haveBoto3) console.warn('[s3api] boto3 is not installed (scripts/install-tools.sh s3clients): s3-durable tests skip');

const ALICE = { access: 'ALICEKEY0000000001', secret: 'alice/secret+key=0001' };
const MiB = 1024 * 1024;

let dir: string;
const running: RunningRegistry[] = [];

beforeAll(() => {
  dir = tempDir('s3api-durable-');
  writeFileSync(join(dir, 'alice.secret'), `${ALICE.secret}\n`);
});

afterAll(async () => {
  for (const r of running) await r.stop();
});

async function start(config: Record<string, unknown>, dataDir?: string): Promise<{ registry: RunningRegistry; port: number }> {
  const registry = await startRegistry({ config, ...(dataDir ? { dataDir } : {}) });
  running.push(registry);
  for (let i = 0; i < 100; i++) {
    const line = registry.logs.find((l) => l.includes('"message":"s3api listening"'));
    if (line) return { registry, port: Number(/"port":(\d+)/.exec(line)![1]) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the S3 listener did not start:\n${registry.logs.join('\n')}`);
}

function boto3(endpoint: string, op: string, args: Record<string, unknown> = {}): Promise<Boto3Result> {
  return boto3Call(endpoint, ALICE, op, args);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!haveBoto3)('multipart uploads live in the store', () => {
  it('an upload started before a restart is listed, continued and completed after it; perch gc keeps its parts until it ends, then removes them', async () => {
    const dataDir = tempDir('s3api-durable-data-');
    const config = {
      // No scheduler: `perch gc` below is the only collection; a 1 s grace period so it can run at once.
      storage: { gc: false, gcDelay: '1s' },
      perch: { s3api: { enable: true, port: 0, credentials: [{ accessKey: ALICE.access, secretKeyFile: join(dir, 'alice.secret'), user: 'alice' }] } },
    };
    const file = join(dir, 'restart.bin');
    const bytes = randomBytes(11 * MiB);
    writeFileSync(file, bytes);
    const parts = [
      { part: 1, offset: 0, length: 5 * MiB },
      { part: 2, offset: 5 * MiB, length: 5 * MiB },
      { part: 3, offset: 10 * MiB, length: 1 * MiB },
    ];
    const partDigest = (p: { offset: number; length: number }) => `sha256:${sha256(bytes.subarray(p.offset, p.offset + p.length))}`;
    const bucket = 'mp-bucket';
    const key = 'big/restart.bin';

    // --- first process: the upload starts, parts 1 and 2 arrive in parallel; another upload gets one part.
    const first = await start(config, dataDir);
    let s3 = `http://127.0.0.1:${first.port}`;
    expect((await boto3(s3, 'create_bucket', { bucket })).code).toBe(0);
    const created = await boto3(s3, 'mp_create', { bucket, key });
    expect(created.code, created.stderr).toBe(0);
    const id = created.json.upload_id as string;
    const sent = await Promise.all(parts.slice(0, 2).map((p) => boto3(s3, 'mp_part', { bucket, key, upload_id: id, file, ...p })));
    for (const s of sent) expect(s.code, s.stderr).toBe(0);
    const etags: Array<[number, string]> = sent.map((s, i) => [i + 1, s.json.etag]);
    const abandoned = (await boto3(s3, 'mp_create', { bucket, key: 'aborted.bin' })).json.upload_id as string;
    const abandonedPart = { part: 1, offset: 0, length: 5 * MiB + 7 };
    expect((await boto3(s3, 'mp_part', { bucket, key: 'aborted.bin', upload_id: abandoned, file, ...abandonedPart })).code).toBe(0);
    expect(await first.registry.stop()).toBe(0);

    // The parts are older than gcDelay and no object names them, yet GC keeps them: tagged manifests reference them.
    await new Promise((r) => setTimeout(r, 1100));
    const gc = (...args: string[]) => runCommand(process.execPath, [PERCH_BUNDLE, 'gc', ...args, first.registry.configPath], { allowFailure: true, timeoutMs: 60_000 });
    const keeps = await gc('--dry-run');
    expect(keeps.code, keeps.stderr).toBe(0);
    for (const p of [...parts.slice(0, 2), abandonedPart]) expect(keeps.stdout).not.toContain(partDigest(p));

    // --- second process on the same storage root: the uploads are still there.
    const second = await start(config, dataDir);
    s3 = `http://127.0.0.1:${second.port}`;
    const listed = await boto3(s3, 'mp_list_uploads', { bucket });
    expect(listed.json.uploads).toEqual([['aborted.bin', abandoned], [key, id]]);
    const listedParts = await boto3(s3, 'mp_list_parts', { bucket, key, upload_id: id });
    expect(listedParts.json.parts).toEqual(etags.map(([n, etag]) => [n, etag, 5 * MiB]));
    // Visible as OCI tags, never as S3 keys.
    const tags = (await (await fetch(`${second.registry.url}/v2/${bucket}/big/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(expect.arrayContaining([`_s3-upload-${id}`, `_s3-upload-${id}.00001`, `_s3-upload-${id}.00002`]));
    expect((await boto3(s3, 'list', { bucket })).json.keys).toEqual([]);

    const last = await boto3(s3, 'mp_part', { bucket, key, upload_id: id, file, ...parts[2] });
    expect(last.code, last.stderr).toBe(0);
    const done = await boto3(s3, 'mp_complete', { bucket, key, upload_id: id, parts: [...etags, [3, last.json.etag]] });
    expect(done.code, done.stderr).toBe(0);
    expect(done.json.etag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const out = join(dir, 'restart.out');
    const got = await boto3(s3, 'get', { bucket, key, file: out });
    expect(got.code, got.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(bytes));
    expect((await boto3(s3, 'mp_abort', { bucket, key: 'aborted.bin', upload_id: abandoned })).code).toBe(0);
    expect((await boto3(s3, 'mp_list_uploads', { bucket })).json.uploads).toEqual([]);
    expect((await boto3(s3, 'list', { bucket })).json.keys).toEqual([key]);
    const after = (await (await fetch(`${second.registry.url}/v2/${bucket}/big/tags/list`)).json()) as { tags: string[] };
    expect(after.tags).toEqual(['restart.bin']);
    expect(await second.registry.stop()).toBe(0);

    // --- the parts of both uploads are garbage now: perch gc removes their blobs; the object stays.
    await new Promise((r) => setTimeout(r, 1100));
    const collected = await gc();
    expect(collected.code, collected.stderr).toBe(0);
    for (const p of [...parts, abandonedPart]) {
      expect(collected.stdout).toContain(`blob ${partDigest(p)}`);
      const hex = partDigest(p).slice('sha256:'.length);
      expect(existsSync(join(dataDir, 'blobs/sha256', hex.slice(0, 2), hex))).toBe(false);
    }
    const third = await start(config, dataDir);
    const again = await boto3(`http://127.0.0.1:${third.port}`, 'get', { bucket, key, file: out });
    expect(again.code, again.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(bytes));
  }, 90_000);
});

describe.skipIf(!haveBoto3)('TLS and anonymous access', () => {
  it('boto3 trusting the CA talks to the S3 listener over TLS; unsigned requests get anonymousPolicy: reads of a public bucket, no writes', async () => {
    const ca = await makeCa(dir, 'perch s3 test CA');
    const cert = await issue(ca, dir, 'server', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1'], server: true });
    writeFileSync(join(dir, 'htpasswd'), `alice:${bcrypt.hashSync('pw', 4).replace(/^\$2b\$/, '$2y$')}\n`);
    const alice = { users: ['alice'], actions: ['read', 'create', 'update', 'delete'] };
    const { port } = await start({
      http: {
        tls: { cert: cert.certPath, key: cert.keyPath },
        auth: { htpasswd: { path: join(dir, 'htpasswd') } },
        accessControl: {
          repositories: {
            '**': { policies: [alice], defaultPolicy: [] },
            'public-bucket': { policies: [alice], anonymousPolicy: ['read'] },
            'public-bucket/**': { policies: [alice], anonymousPolicy: ['read'] },
          },
        },
      },
      perch: { s3api: { enable: true, port: 0, credentials: [{ accessKey: ALICE.access, secretKeyFile: join(dir, 'alice.secret'), user: 'alice' }] } },
    });
    const s3 = `https://127.0.0.1:${port}`;
    const tls = { verify: ca.certPath };
    const file = join(dir, 'public.txt');
    writeFileSync(file, 'for everyone\n');

    // Signed, over TLS, the CA trusted.
    for (const bucket of ['public-bucket', 'private-bucket']) {
      const made = await boto3(s3, 'create_bucket', { bucket, ...tls });
      expect(made.code, made.stderr).toBe(0);
      expect((await boto3(s3, 'put', { bucket, key: 'docs/hello.txt', file, ...tls })).code).toBe(0);
    }
    // Without the CA, the client refuses the certificate.
    const untrusted = await boto3(s3, 'list', { bucket: 'public-bucket' });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED|SSLError/);

    // Unsigned: the anonymous user.
    const anon = { ...tls, unsigned: true };
    const got = await boto3(s3, 'get', { bucket: 'public-bucket', key: 'docs/hello.txt', ...anon });
    expect(got.code, got.stderr).toBe(0);
    expect(got.json.text).toBe('for everyone\n');
    expect((await boto3(s3, 'list', { bucket: 'public-bucket', ...anon })).json.keys).toEqual(['docs/hello.txt']);
    const put = await boto3(s3, 'put', { bucket: 'public-bucket', key: 'docs/anon.txt', file, ...anon });
    expect(put.json).toMatchObject({ error: 'AccessDenied', status: 403 });
    const privateGet = await boto3(s3, 'get', { bucket: 'private-bucket', key: 'docs/hello.txt', ...anon });
    expect(privateGet.json).toMatchObject({ error: 'AccessDenied', status: 403 });
    const curl = await runCommand('curl', ['-sS', '-f', '--cacert', ca.certPath, `${s3}/public-bucket/docs/hello.txt`], { allowFailure: true });
    expect(curl.code, curl.stderr).toBe(0);
    expect(curl.stdout).toBe('for everyone\n');
  }, 60_000);
});

describe('multipart uploads never take bytes from another object', () => {
  it('completing and aborting uploads whose parts equal a stored object leave that object readable through S3 and OCI', async () => {
    const { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
    const { registry, port } = await start({
      perch: { s3api: { enable: true, port: 0, credentials: [{ accessKey: ALICE.access, secretKeyFile: join(dir, 'alice.secret'), user: 'alice' }] } },
    });
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ALICE.access, secretAccessKey: ALICE.secret } });
    const Bucket = 'shared-bytes';
    const bytes = randomBytes(5 * MiB + 3);
    await s3.send(new CreateBucketCommand({ Bucket }));
    // The same bytes three ways in repository shared-bytes/same: a plain object, a one-part upload, an aborted upload.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'same/plain.bin', Body: bytes }));
    for (const [Key, finish] of [['same/multi.bin', 'complete'], ['same/gone.bin', 'abort']] as const) {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: bytes }));
      if (finish === 'complete') await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
      else await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    }
    for (const Key of ['same/plain.bin', 'same/multi.bin']) {
      const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
      expect(sha256(got), Key).toBe(sha256(bytes));
    }
    // Through the OCI API, as oras would fetch it: the repository still holds the blob.
    const blob = await fetch(`${registry.url}/v2/${Bucket}/same/blobs/sha256:${sha256(bytes)}`);
    expect(blob.status).toBe(200);
    expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(sha256(bytes));
    s3.destroy();
  });
});
