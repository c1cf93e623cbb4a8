/**
 * perch's S3 API (registry-image/src/s3api, docs/s3api.md) driven by real clients against the
 * built server (`node registry-image/dist/perch.js serve`, perch.s3api enabled, plain HTTP):
 *
 * - AWS CLI: mb, cp of small, empty and unicode-named files up and down, list-objects-v2 with
 *   prefix and delimiter, rm, head-object 404, rb of a non-empty bucket (BucketNotEmpty); a
 *   200 MiB multipart upload (25 parts, `-25` ETag, x-amz-meta-oci-reference) that comes down
 *   and is pulled with oras with the same SHA-256.
 * - boto3: content type and x-amz-meta-*, Range, If-Match, If-None-Match (304),
 *   If-Modified-Since, If-Unmodified-Since, InvalidRange, NoSuchKey, NoSuchBucket,
 *   GetBucketLocation, HeadBucket, ListBuckets; empty objects; ListObjectsV2 and ListObjects v1
 *   paginated, with delimiter and StartAfter; CopyObject; DeleteObjects; multipart EntityTooSmall,
 *   ListParts, ListMultipartUploads, Abort then NoSuchUpload; SignatureDoesNotMatch,
 *   InvalidAccessKeyId; presigned GET and PUT URLs used with curl (and a tampered one refused).
 * - curl --aws-sigv4: virtual-host-style addressing (perch.s3api.domain); a body that fails its
 *   signed SHA-256 is XAmzContentSHA256Mismatch and leaves no object.
 * - Access control: a key without rights gets AccessDenied for reads, writes, lists and mb; a
 *   read-only key reads and lists and is refused writes and deletes.
 * - rclone: copy of a tree with a 30 MiB multipart file up and down, lsf, check, delete.
 * - s3cmd: mb, put (small, 20 MiB multipart, empty), get with its MD5 check, ls, del, rb.
 * - boto3, rclone and s3cmd each also move the 200 MiB file up as a multipart upload (25, 40
 *   and 14 parts) and down with the same SHA-256, and get 403 AccessDenied with mallory's key.
 * - oras and S3: an artifact pushed with oras reads and lists through S3; an object under a key
 *   that is no OCI name is pulled by the reference HEAD reports.
 *
 * Elsewhere: s3-durable.test.ts (multipart uploads across a restart and perch gc, TLS,
 * anonymous access), clients.test.ts (signatures of each client, minio-go, the AWS SDK for
 * JavaScript), aws-examples.test.ts, uri-encoding.test.ts.
 *
 * Users: alice may do everything, bob may read, mallory has an access key and no rights.
 * Tools as in clients.test.ts (scripts/install-tools.sh s3clients, oras); a missing one skips
 * its tests with a message, except in CI (CI=true), where it fails the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { runCommand, type CommandResult } from '../helpers/run-command';
import { tempDir } from '../helpers/temp-dir';
import { BOTO3_OPS, BOTO3_PYTHON, boto3Call, haveBoto3, type Boto3Result } from './boto3-ops';

const TOOLS = process.env.PERCH_TOOLS ?? join(process.env.HOME ?? '/root', '.cache/perch-tools');
const AWS = join(TOOLS, 's3-venv/bin/aws');
const ORAS = join(TOOLS, 'bin/oras');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, cmd)));
}
const have = { boto3: haveBoto3, aws: existsSync(AWS), rclone: onPath('rclone'), s3cmd: onPath('s3cmd'), curl: onPath('curl'), oras: existsSync(ORAS) };
const missing = Object.entries(have).filter(([, ok]) => !ok).map(([tool]) => tool);
if (missing.length > 0 && process.env.CI) throw new Error(`S3 clients missing in CI: ${missing.join(', ')}; run scripts/install-tools.sh s3clients (and apt for rclone, s3cmd)`);
for (const tool of missing) console.warn(`[s3api] ${tool} is not installed (scripts/install-tools.sh): its tests skip`);

const KEYS = {
  alice: { access: 'ALICEKEY0000000001', secret: 'alice/secret+key=0001' },
  bob: { access: 'BOBKEY000000000002', secret: 'bob/secret+key=0002' },
  mallory: { access: 'MALLORYKEY00000003', secret: 'mallory/secret+key=0003' },
} as const;
const PASSWORD = 'alice-oci-password';

let registry: RunningRegistry;
let endpoint: string;
let dir: string;
let small: string;
let empty: string;
let big: string;
let bigSha: string;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= 1 << 20) {
    if (!out.write(randomBytes(Math.min(left, 1 << 20)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function same(a: string, b: string): boolean {
  return readFileSync(a).equals(readFileSync(b));
}

beforeAll(async () => {
  dir = tempDir('s3api-e2e-');
  for (const [user, k] of Object.entries(KEYS)) writeFileSync(join(dir, `${user}.secret`), `${k.secret}\n`);
  writeFileSync(join(dir, 'htpasswd'), `alice:${bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$/, '$2y$')}\n`);
  registry = await startRegistry({
    config: {
      http: {
        auth: { htpasswd: { path: join(dir, 'htpasswd') } },
        accessControl: {
          repositories: {
            '**': {
              policies: [
                { users: ['alice'], actions: ['read', 'create', 'update', 'delete'] },
                { users: ['bob'], actions: ['read'] },
              ],
              defaultPolicy: [],
            },
          },
        },
      },
      perch: {
        s3api: {
          enable: true,
          port: 0,
          domain: 's3.perch.test',
          credentials: Object.entries(KEYS).map(([user, k]) => ({ accessKey: k.access, secretKeyFile: join(dir, `${user}.secret`), user })),
        },
      },
    },
  });
  // The S3 listener logs its own line once it listens (its port is 0: a free one).
  for (let i = 0; i < 100 && !endpoint; i++) {
    const line = registry.logs.find((l) => l.includes('"message":"s3api listening"'));
    if (line) endpoint = `http://127.0.0.1:${/"port":(\d+)/.exec(line)![1]}`;
    else await new Promise((r) => setTimeout(r, 50));
  }
  if (!endpoint) throw new Error(`the S3 listener did not start:\n${registry.logs.join('\n')}`);
  small = join(dir, 'small.txt');
  writeFileSync(small, 'hello from a real S3 client\n');
  empty = join(dir, 'empty.bin');
  writeFileSync(empty, '');
  big = join(dir, 'big.bin');
  await writeRandomFile(big, 200 * 1024 * 1024);
  bigSha = await sha256File(big);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

// --- helpers per client ----------------------------------------------------------------------
function awsEnv(who: keyof typeof KEYS): NodeJS.ProcessEnv {
  const config = join(dir, 'aws-config');
  writeFileSync(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: KEYS[who].access,
    AWS_SECRET_ACCESS_KEY: KEYS[who].secret,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
  };
}
function aws(args: string[], who: keyof typeof KEYS = 'alice', env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return runCommand(AWS, [...args, '--endpoint-url', endpoint], { env: { ...awsEnv(who), ...env }, allowFailure: true, timeoutMs: 150_000 });
}

function boto3(op: string, args: Record<string, unknown> = {}, who: keyof typeof KEYS = 'alice'): Promise<Boto3Result> {
  return boto3Call(endpoint, KEYS[who], op, args);
}

function rclone(args: string[], who: keyof typeof KEYS = 'alice'): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG: join(dir, 'rclone.conf'),
    RCLONE_CONFIG_PERCH_TYPE: 's3',
    RCLONE_CONFIG_PERCH_PROVIDER: 'Other',
    RCLONE_CONFIG_PERCH_ACCESS_KEY_ID: KEYS[who].access,
    RCLONE_CONFIG_PERCH_SECRET_ACCESS_KEY: KEYS[who].secret,
    RCLONE_CONFIG_PERCH_ENDPOINT: endpoint,
    RCLONE_CONFIG_PERCH_REGION: 'us-east-1',
    RCLONE_CONFIG_PERCH_FORCE_PATH_STYLE: 'true',
  };
  delete env.AWS_CA_BUNDLE;
  writeFileSync(join(dir, 'rclone.conf'), '');
  return runCommand('rclone', [...args, '--retries', '1', '--low-level-retries', '1'], { env, allowFailure: true, timeoutMs: 120_000 });
}

function s3cmd(args: string[], who: keyof typeof KEYS = 'alice'): Promise<CommandResult> {
  const host = endpoint.replace('http://', '');
  const config = join(dir, `s3cmd-${who}.cfg`);
  writeFileSync(
    config,
    `[default]\naccess_key = ${KEYS[who].access}\nsecret_key = ${KEYS[who].secret}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\nmax_retries = 1\n`,
  );
  return runCommand('s3cmd', ['-c', config, ...args], { allowFailure: true, timeoutMs: 120_000 });
}

function oras(args: string[]): Promise<CommandResult> {
  return runCommand(ORAS, [...args, '--plain-http', '-u', 'alice', '-p', PASSWORD], { allowFailure: true, timeoutMs: 120_000, cwd: dir });
}

// --- AWS CLI -----------------------------------------------------------------------------------
describe.skipIf(!have.aws)('AWS CLI', () => {
  const bucket = 'aws-bucket';

  it('makes a bucket, copies small, empty and unicode-named files up and down, lists with prefix and delimiter, deletes', async () => {
    expect((await aws(['s3', 'mb', `s3://${bucket}`])).code).toBe(0);
    const files: Array<[string, string]> = [
      [small, 'docs/readme.txt'],
      [empty, 'docs/empty.bin'],
      [small, 'Photos 2024/ünïcode name.txt'],
      [small, 'top.txt'],
    ];
    for (const [file, key] of files) {
      const up = await aws(['s3', 'cp', file, `s3://${bucket}/${key}`]);
      expect(up.code, up.stderr).toBe(0);
      const out = join(dir, 'aws-down');
      const down = await aws(['s3', 'cp', `s3://${bucket}/${key}`, out]);
      expect(down.code, down.stderr).toBe(0);
      expect(same(out, file)).toBe(true);
    }
    const list = await aws(['s3api', 'list-objects-v2', '--bucket', bucket, '--delimiter', '/', '--output', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.Contents.map((c: { Key: string }) => c.Key)).toEqual(['top.txt']);
    expect(listed.CommonPrefixes.map((c: { Prefix: string }) => c.Prefix)).toEqual(['Photos 2024/', 'docs/']);
    const prefixed = JSON.parse((await aws(['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'docs/', '--output', 'json'])).stdout);
    expect(prefixed.Contents.map((c: { Key: string; Size: number }) => [c.Key, c.Size])).toEqual([
      ['docs/empty.bin', 0],
      ['docs/readme.txt', readFileSync(small).length],
    ]);
    const ls = await aws(['s3', 'ls', `s3://${bucket}/Photos 2024/`]);
    expect(ls.stdout).toContain('ünïcode name.txt');

    expect((await aws(['s3', 'rm', `s3://${bucket}/docs/readme.txt`])).code).toBe(0);
    const after = JSON.parse((await aws(['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'docs/', '--output', 'json'])).stdout);
    expect(after.Contents.map((c: { Key: string }) => c.Key)).toEqual(['docs/empty.bin']);
    const gone = await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'docs/readme.txt']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('404');

    const notEmpty = await aws(['s3', 'rb', `s3://${bucket}`]);
    expect(notEmpty.code).not.toBe(0);
    expect(notEmpty.stderr).toContain('BucketNotEmpty');
  });

  it('a 200 MiB file goes up as a multipart upload and comes down with the same SHA-256; oras pulls the same bytes', async () => {
    const up = await aws(['s3', 'cp', big, `s3://${bucket}/big/data.bin`, '--only-show-errors']);
    expect(up.code, up.stderr).toBe(0);
    const head = JSON.parse((await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'big/data.bin', '--output', 'json'])).stdout);
    expect(head.ContentLength).toBe(200 * 1024 * 1024);
    // The AWS CLI's default part size is 8 MiB: 25 parts, so S3's multipart ETag.
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-25"$/);
    expect(head.Metadata['oci-reference']).toBe(`${bucket}/big:data.bin`);
    const out = join(dir, 'aws-big-down');
    const down = await aws(['s3', 'cp', `s3://${bucket}/big/data.bin`, out, '--only-show-errors']);
    expect(down.code, down.stderr).toBe(0);
    expect(await sha256File(out)).toBe(bigSha);

    if (!have.oras) return;
    const pullDir = join(dir, 'oras-big');
    mkdirSync(pullDir);
    const pull = await runCommand(ORAS, ['pull', '--plain-http', '-u', 'alice', '-p', PASSWORD, '-o', pullDir, `${registry.host}/${bucket}/big:data.bin`], { allowFailure: true, timeoutMs: 120_000 });
    expect(pull.code, pull.stderr).toBe(0);
    expect(readdirSync(pullDir)).toEqual(['data.bin']);
    expect(await sha256File(join(pullDir, 'data.bin'))).toBe(bigSha);
  }, 180_000);
});

// --- boto3 ---------------------------------------------------------------------------------------
describe.skipIf(!have.boto3)('boto3', () => {
  const bucket = 'boto3-bucket';

  beforeAll(async () => {
    const made = await boto3('create_bucket', { bucket });
    expect(made.code, made.stderr).toBe(0);
  });

  it('puts with content type and metadata, gets them back, heads, and answers Range and conditional GETs', async () => {
    const put = await boto3('put', { bucket, key: 'a/b/hello.txt', file: small, content_type: 'text/plain', metadata: { colour: 'blue' } });
    expect(put.code, put.stderr).toBe(0);
    expect(put.json.etag).toBe(`"${createHash('md5').update(readFileSync(small)).digest('hex')}"`);
    const got = await boto3('get', { bucket, key: 'a/b/hello.txt' });
    expect(got.json).toMatchObject({ length: readFileSync(small).length, etag: put.json.etag, content_type: 'text/plain', metadata: { colour: 'blue' } });
    expect(got.json.text).toBe('hello from a real S3 client\n');

    const range = await boto3('get', { bucket, key: 'a/b/hello.txt', Range: 'bytes=6-9' });
    expect(range.json).toMatchObject({ text: 'from', length: 4, content_range: `bytes 6-9/${readFileSync(small).length}` });
    const notModified = await boto3('get', { bucket, key: 'a/b/hello.txt', IfNoneMatch: put.json.etag });
    expect(notModified.json.status).toBe(304);
    const precondition = await boto3('get', { bucket, key: 'a/b/hello.txt', IfMatch: '"0123456789abcdef0123456789abcdef"' });
    expect(precondition.json.error).toBe('PreconditionFailed');
    const unmodified = await boto3('get', { bucket, key: 'a/b/hello.txt', IfUnmodifiedSince: '2000-01-01T00:00:00Z' });
    expect(unmodified.json.error).toBe('PreconditionFailed');
    const modifiedSince = await boto3('get', { bucket, key: 'a/b/hello.txt', IfModifiedSince: '2000-01-01T00:00:00Z' });
    expect(modifiedSince.json.length).toBe(readFileSync(small).length);
    const badRange = await boto3('get', { bucket, key: 'a/b/hello.txt', Range: 'bytes=1000-2000' });
    expect(badRange.json).toMatchObject({ error: 'InvalidRange', status: 416 });

    const missing = await boto3('get', { bucket, key: 'a/b/nothing.txt' });
    expect(missing.json).toMatchObject({ error: 'NoSuchKey', status: 404 });
    const noBucket = await boto3('get', { bucket: 'no-such-bucket', key: 'x' });
    expect(noBucket.json).toMatchObject({ error: 'NoSuchBucket', status: 404 });
    expect((await boto3('location', { bucket })).json.location ?? null).toBeNull();
    expect((await boto3('head_bucket', { bucket })).code).toBe(0);
    expect((await boto3('list_buckets')).json.buckets).toContain(bucket);
  });

  it('empty objects, pagination over ListObjectsV2 and ListObjects (v1), copy and DeleteObjects', async () => {
    const keys = ['p/1.txt', 'p/2.txt', 'p/3.txt', 'p/sub/4.txt', 'p/sub/5.txt', 'q/6.txt', 'Weird Key ü+=.txt'];
    for (const key of keys) expect((await boto3('put', { bucket, key, file: key === 'p/2.txt' ? empty : small })).code).toBe(0);
    expect((await boto3('get', { bucket, key: 'p/2.txt' })).json.length).toBe(0);

    const all = await boto3('list', { bucket, Prefix: 'p/', page: 2 });
    expect(all.json.keys).toEqual(['p/1.txt', 'p/2.txt', 'p/3.txt', 'p/sub/4.txt', 'p/sub/5.txt']);
    expect(all.json.pages).toBe(3);
    const delimited = await boto3('list', { bucket, Prefix: 'p/', Delimiter: '/', page: 2 });
    expect(delimited.json).toMatchObject({ keys: ['p/1.txt', 'p/2.txt', 'p/3.txt'], prefixes: ['p/sub/'] });
    const after = await boto3('list', { bucket, Prefix: 'p/', StartAfter: 'p/3.txt' });
    expect(after.json.keys).toEqual(['p/sub/4.txt', 'p/sub/5.txt']);
    const v1 = await boto3('list_v1', { bucket, Delimiter: '/', page: 1 });
    expect(v1.json).toMatchObject({ keys: ['Weird Key ü+=.txt'], prefixes: ['a/', 'p/', 'q/'] });
    expect(v1.json.pages).toBeGreaterThan(1);

    const copy = await boto3('copy', { bucket, key: 'copies/hello.txt', source_bucket: bucket, source_key: 'Weird Key ü+=.txt' });
    expect(copy.code, copy.stderr).toBe(0);
    expect((await boto3('get', { bucket, key: 'copies/hello.txt' })).json.text).toBe('hello from a real S3 client\n');

    const deleted = await boto3('delete_objects', { bucket, keys: ['p/1.txt', 'p/sub/4.txt', 'never/there.txt'] });
    expect(deleted.json.deleted).toEqual(['never/there.txt', 'p/1.txt', 'p/sub/4.txt']);
    expect((await boto3('list', { bucket, Prefix: 'p/' })).json.keys).toEqual(['p/2.txt', 'p/3.txt', 'p/sub/5.txt']);
  });

  it('multipart: a part below 5 MiB before the last is EntityTooSmall; ListParts, ListMultipartUploads, Abort', async () => {
    const r = await boto3('multipart_small_part', { bucket, key: 'mp/small-parts.bin' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ parts: [1, 2], uploads: ['mp/small-parts.bin'], complete_error: 'EntityTooSmall', after_abort: 'NoSuchUpload' });
  });

  it('a wrong secret is SignatureDoesNotMatch, an unknown key InvalidAccessKeyId', async () => {
    const wrong = await runCommand(BOTO3_PYTHON, [BOTO3_OPS, JSON.stringify({ op: 'list', endpoint, access: KEYS.alice.access, secret: 'not-the-secret', bucket })], { allowFailure: true });
    expect(JSON.parse(wrong.stdout)).toMatchObject({ error: 'SignatureDoesNotMatch', status: 403 });
    const unknown = await runCommand(BOTO3_PYTHON, [BOTO3_OPS, JSON.stringify({ op: 'list', endpoint, access: 'NOSUCHKEY000000000', secret: 'x', bucket })], { allowFailure: true });
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: 'InvalidAccessKeyId', status: 403 });
  });

  it.skipIf(!have.curl)('presigned GET and PUT URLs work with curl', async () => {
    const putUrl = (await boto3('presign', { bucket, key: 'presigned/up load.bin', method: 'put_object' })).json.url as string;
    const payload = join(dir, 'presigned.bin');
    writeFileSync(payload, randomBytes(300_000));
    const put = await runCommand('curl', ['-sS', '-f', '-T', payload, putUrl], { allowFailure: true });
    expect(put.code, put.stderr + put.stdout).toBe(0);
    const getUrl = (await boto3('presign', { bucket, key: 'presigned/up load.bin', method: 'get_object' })).json.url as string;
    const out = join(dir, 'presigned-down.bin');
    const get = await runCommand('curl', ['-sS', '-f', '-o', out, getUrl], { allowFailure: true });
    expect(get.code, get.stderr).toBe(0);
    expect(same(out, payload)).toBe(true);
    // The URL signs its key: another key is refused.
    const other = await runCommand('curl', ['-sS', '-o', out, '-w', '%{http_code}', getUrl.replace('up%20load', 'up%20loaf')], { allowFailure: true });
    expect(other.stdout).toBe('403');
    expect(readFileSync(out, 'utf8')).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

// --- virtual-host-style addressing (perch.s3api.domain) -----------------------------------------------
describe.skipIf(!have.curl || !have.boto3)('virtual-host style', () => {
  it('Host: <bucket>.<domain> addresses the bucket; the path is the key', async () => {
    expect((await boto3('create_bucket', { bucket: 'vhost-bucket' })).code).toBe(0);
    const port = new URL(endpoint).port;
    const host = `vhost-bucket.s3.perch.test:${port}`;
    const sigv4 = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${KEYS.alice.access}:${KEYS.alice.secret}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '--connect-to', `${host}:127.0.0.1:${port}`];
    const put = await runCommand('curl', ['-sS', '-f', ...sigv4, '-T', small, `http://${host}/via/vhost.txt`], { allowFailure: true });
    expect(put.code, put.stderr).toBe(0);
    const got = await boto3('get', { bucket: 'vhost-bucket', key: 'via/vhost.txt' });
    expect(got.json.text).toBe('hello from a real S3 client\n');
    const list = await runCommand('curl', ['-sS', '-f', ...sigv4, `http://${host}/?list-type=2&prefix=via%2F`], { allowFailure: true });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('<Key>via/vhost.txt</Key>');
  });

  it('a body that does not match its signed SHA-256 is refused and leaves no object behind', async () => {
    const sigv4 = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${KEYS.alice.access}:${KEYS.alice.secret}`];
    const otherSha = createHash('sha256').update('something else').digest('hex');
    const put = await runCommand('curl', ['-sS', ...sigv4, '-H', `x-amz-content-sha256: ${otherSha}`, '-T', small, '-w', '\n%{http_code}', `${endpoint}/vhost-bucket/tampered.txt`], { allowFailure: true });
    expect(put.stdout).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    expect(put.stdout.trim().split('\n').pop()).toBe('400');
    const head = await boto3('head', { bucket: 'vhost-bucket', key: 'tampered.txt' });
    expect(head.json.status).toBe(404);
  });
});

// --- access control ------------------------------------------------------------------------------
describe.skipIf(!have.aws)('access: each key acts as its registry user', () => {
  const bucket = 'access-bucket';

  beforeAll(async () => {
    expect((await aws(['s3', 'mb', `s3://${bucket}`])).code).toBe(0);
    expect((await aws(['s3', 'cp', small, `s3://${bucket}/shared/file.txt`])).code).toBe(0);
  });

  it('a key whose user has no rights gets 403 AccessDenied for reads, writes, lists and bucket creation', async () => {
    for (const args of [
      ['s3', 'cp', small, `s3://${bucket}/shared/mallory.txt`],
      ['s3', 'cp', `s3://${bucket}/shared/file.txt`, join(dir, 'mallory-out')],
      ['s3', 'ls', `s3://${bucket}/`],
      ['s3', 'mb', 's3://mallory-bucket'],
    ]) {
      const r = await aws(args, 'mallory');
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/AccessDenied|403|Forbidden/);
    }
    const put = await aws(['s3api', 'put-object', '--bucket', bucket, '--key', 'shared/m.txt', '--body', small], 'mallory');
    expect(put.stderr).toContain('AccessDenied');
  });

  it('a read-only user reads and lists, and is refused writes and deletes', async () => {
    const out = join(dir, 'bob-out');
    expect((await aws(['s3', 'cp', `s3://${bucket}/shared/file.txt`, out], 'bob')).code).toBe(0);
    expect(same(out, small)).toBe(true);
    expect((await aws(['s3', 'ls', `s3://${bucket}/shared/`], 'bob')).stdout).toContain('file.txt');
    const put = await aws(['s3api', 'put-object', '--bucket', bucket, '--key', 'shared/bob.txt', '--body', small], 'bob');
    expect(put.stderr).toContain('AccessDenied');
    const del = await aws(['s3api', 'delete-object', '--bucket', bucket, '--key', 'shared/file.txt'], 'bob');
    expect(del.stderr).toContain('AccessDenied');
    expect((await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'shared/file.txt'], 'bob')).code).toBe(0);
  });
});

// --- every client: the 200 MiB multipart file, and a key without rights -----------------------
describe('the 200 MiB file goes up as a multipart upload and comes down whole, and a key without rights gets 403, with each client', () => {
  const bucket = 'big-bucket';
  beforeAll(async () => {
    if (have.boto3) expect((await boto3('create_bucket', { bucket })).code).toBe(0);
  });

  it.skipIf(!have.boto3)('boto3 (upload_file, download_file)', async () => {
    const up = await boto3('upload_file', { bucket, key: 'boto3/big.bin', file: big });
    expect(up.code, up.stderr).toBe(0);
    expect(up.json.etag).toMatch(/-25"$/); // 8 MiB parts
    const out = join(dir, 'boto3-big.out');
    const down = await boto3('download_file', { bucket, key: 'boto3/big.bin', file: out });
    expect(down.code, down.stderr).toBe(0);
    expect(await sha256File(out)).toBe(bigSha);
    const refused = await boto3('put', { bucket, key: 'boto3/mallory.txt', file: small }, 'mallory');
    expect(refused.json).toMatchObject({ error: 'AccessDenied', status: 403 });
  }, 150_000);

  it.skipIf(!have.rclone || !have.boto3)('rclone (copyto, 5 MiB chunks)', async () => {
    const up = await rclone(['copyto', big, `perch:${bucket}/rclone/big.bin`, '--s3-upload-cutoff', '100M']);
    expect(up.code, up.stderr).toBe(0);
    expect((await boto3('head', { bucket, key: 'rclone/big.bin' })).json.etag).toMatch(/-40"$/);
    const out = join(dir, 'rclone-big.out');
    const down = await rclone(['copyto', `perch:${bucket}/rclone/big.bin`, out]);
    expect(down.code, down.stderr).toBe(0);
    expect(await sha256File(out)).toBe(bigSha);
    const refused = await rclone(['copyto', small, `perch:${bucket}/rclone/mallory.txt`, '--retries', '1', '--low-level-retries', '1'], 'mallory');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/AccessDenied|403/);
  }, 150_000);

  it.skipIf(!have.s3cmd || !have.boto3)('s3cmd (put in 15 MB chunks, get with its MD5 check)', async () => {
    const up = await s3cmd(['put', big, `s3://${bucket}/s3cmd/big.bin`]);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect((await boto3('head', { bucket, key: 's3cmd/big.bin' })).json.etag).toMatch(/-14"$/);
    const out = join(dir, 's3cmd-big.out');
    const down = await s3cmd(['get', '--force', `s3://${bucket}/s3cmd/big.bin`, out]);
    expect(down.code, down.stderr).toBe(0);
    expect(await sha256File(out)).toBe(bigSha);
    const refused = await s3cmd(['put', small, `s3://${bucket}/s3cmd/mallory.txt`], 'mallory');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/AccessDenied|403/);
  }, 150_000);
});

// --- rclone --------------------------------------------------------------------------------------
describe.skipIf(!have.rclone)('rclone', () => {
  it('copies a folder up (with a 30 MiB multipart file) and down, lists, deletes', async () => {
    const src = join(dir, 'rclone-src');
    mkdirSync(join(src, 'nested/deeper'), { recursive: true });
    writeFileSync(join(src, 'one.txt'), 'one\n');
    writeFileSync(join(src, 'empty.bin'), '');
    writeFileSync(join(src, 'nested/deeper/two ü.txt'), 'two\n');
    await writeRandomFile(join(src, 'nested/thirty.bin'), 30 * 1024 * 1024);
    expect((await rclone(['mkdir', 'perch:rclone-bucket'])).code).toBe(0);
    // Multipart above 10 MiB in 5 MiB parts (rclone's default cutoff is 200 MiB).
    const up = await rclone(['copy', src, 'perch:rclone-bucket/tree', '--s3-upload-cutoff', '10M', '--s3-chunk-size', '5M']);
    expect(up.code, up.stderr).toBe(0);
    const lsf = await rclone(['lsf', '-R', '--files-only', 'perch:rclone-bucket/tree']);
    expect(lsf.stdout.trim().split('\n').sort()).toEqual(['empty.bin', 'nested/deeper/two ü.txt', 'nested/thirty.bin', 'one.txt']);
    const dirs = await rclone(['lsf', 'perch:rclone-bucket/tree']);
    expect(dirs.stdout.trim().split('\n').sort()).toEqual(['empty.bin', 'nested/', 'one.txt']);
    const dst = join(dir, 'rclone-dst');
    const down = await rclone(['copy', 'perch:rclone-bucket/tree', dst]);
    expect(down.code, down.stderr).toBe(0);
    for (const f of ['one.txt', 'empty.bin', 'nested/deeper/two ü.txt']) expect(same(join(dst, f), join(src, f)), f).toBe(true);
    expect(await sha256File(join(dst, 'nested/thirty.bin'))).toBe(await sha256File(join(src, 'nested/thirty.bin')));
    const check = await rclone(['check', src, 'perch:rclone-bucket/tree']);
    expect(check.code, check.stderr).toBe(0);
    expect((await rclone(['delete', 'perch:rclone-bucket/tree/nested'])).code).toBe(0);
    const left = await rclone(['lsf', '-R', '--files-only', 'perch:rclone-bucket/tree']);
    expect(left.stdout.trim().split('\n').sort()).toEqual(['empty.bin', 'one.txt']);
  }, 120_000);
});

// --- s3cmd ---------------------------------------------------------------------------------------
describe.skipIf(!have.s3cmd)('s3cmd', () => {
  it('mb, put (small and a 20 MiB multipart), get with its MD5 check, ls, del, rb', async () => {
    expect((await s3cmd(['mb', 's3://s3cmd-bucket'])).code).toBe(0);
    const twenty = join(dir, 'twenty.bin');
    await writeRandomFile(twenty, 20 * 1024 * 1024);
    for (const [file, key] of [[small, 'dir/small.txt'], [twenty, 'dir/twenty.bin'], [empty, 'empty.bin']] as const) {
      const up = await s3cmd(['put', file, `s3://s3cmd-bucket/${key}`]);
      expect(up.code, up.stderr + up.stdout).toBe(0);
      const out = join(dir, 's3cmd-out');
      const down = await s3cmd(['get', '--force', `s3://s3cmd-bucket/${key}`, out]);
      expect(down.code, down.stderr).toBe(0);
      // s3cmd compares a single-part object's MD5 with its ETag and warns when they differ.
      expect(down.stderr).not.toContain('MD5');
      expect(same(out, file)).toBe(true);
    }
    const ls = await s3cmd(['ls', 's3://s3cmd-bucket/']);
    expect(ls.stdout).toMatch(/DIR\s+s3:\/\/s3cmd-bucket\/dir\//);
    expect(ls.stdout).toContain('s3://s3cmd-bucket/empty.bin');
    const lsDir = await s3cmd(['ls', 's3://s3cmd-bucket/dir/']);
    expect(lsDir.stdout).toContain('s3://s3cmd-bucket/dir/twenty.bin');
    expect((await s3cmd(['del', '--recursive', '--force', 's3://s3cmd-bucket/'])).code).toBe(0);
    const rb = await s3cmd(['rb', 's3://s3cmd-bucket']);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await s3cmd(['ls'])).stdout).not.toContain('s3cmd-bucket');
  }, 120_000);
});

// --- oras <-> S3 -----------------------------------------------------------------------------------
describe.skipIf(!have.oras || !have.aws)('oras and S3 see the same artifacts', () => {
  it('a file pushed with oras reads through S3 with the same bytes, and lists under its key', async () => {
    expect((await aws(['s3', 'mb', 's3://oras-bucket'])).code).toBe(0);
    const file = join(dir, 'chart-notes.txt');
    writeFileSync(file, randomBytes(123_456));
    const push = await runCommand(ORAS, ['push', '--plain-http', '-u', 'alice', '-p', PASSWORD, `${registry.host}/oras-bucket/charts:chart-notes.txt`, 'chart-notes.txt'], { cwd: dir, allowFailure: true });
    expect(push.code, push.stderr).toBe(0);
    const out = join(dir, 'oras-via-s3');
    const down = await aws(['s3', 'cp', 's3://oras-bucket/charts/chart-notes.txt', out]);
    expect(down.code, down.stderr).toBe(0);
    expect(same(out, file)).toBe(true);
    expect((await aws(['s3', 'ls', 's3://oras-bucket/charts/'])).stdout).toContain('chart-notes.txt');
  });

  it('an object put through S3 under a key that is no OCI name is pulled by the reference HEAD reports', async () => {
    const file = join(dir, 'Odd Name.bin');
    writeFileSync(file, randomBytes(54_321));
    expect((await aws(['s3', 'cp', file, 's3://oras-bucket/Upper Case/Odd Name.bin'])).code).toBe(0);
    const head = JSON.parse((await aws(['s3api', 'head-object', '--bucket', 'oras-bucket', '--key', 'Upper Case/Odd Name.bin', '--output', 'json'])).stdout);
    expect(head.Metadata['oci-reference']).toMatch(/^oras-bucket:k-[0-9a-f]{40}$/);
    const pullDir = join(dir, 'oras-odd');
    mkdirSync(pullDir);
    const pull = await oras(['pull', '-o', pullDir, `${registry.host}/${head.Metadata['oci-reference']}`]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(same(join(pullDir, 'Odd Name.bin'), file)).toBe(true);
  });
});
