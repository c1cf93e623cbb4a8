/**
 * SigV4 verification (registry-image/src/s3api/sigv4) against the signatures real S3 clients
 * compute: boto3, the AWS CLI, rclone, s3cmd, curl --aws-sigv4, minio-go and the AWS SDK for
 * JavaScript v3, each pointed at the loopback stand-in in test/helpers/s3-capture.ts.
 *
 * For each client: put and get of a small and a 5 MiB file with the right key (every request
 * verified, the bytes come back), a wrong secret (SignatureDoesNotMatch), a body altered on
 * the way (the payload check of the mode the client used), and for boto3's presigned URLs,
 * curl GET and PUT, and AccessDenied once expired. The payload mode each client sent is
 * printed at the end (and written to test/artifacts/s3api-payload-modes.txt).
 *
 * Tools: boto3 and awscli in $PERCH_TOOLS/s3-venv, rclone and s3cmd from Debian, minio-go as
 * $PERCH_TOOLS/bin/minio-go-client (all from scripts/install-tools.sh s3clients); a missing
 * tool skips its tests with a message, except in CI (CI=true), where it fails the file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, makeCa } from '../helpers/certificates';
import { runCommand, type CommandResult } from '../helpers/run-command';
import { startS3Capture, type CapturedRequest, type S3Capture } from '../helpers/s3-capture';
import { tempDir } from '../helpers/temp-dir';

const ACCESS = 'PERCHTESTKEY0001';
const SECRET = 'perch/test+secret=key~0001';
const WRONG = 'perch/test+secret=key~0002';
const BUCKET = 'perch-test';

const TOOLS = process.env.PERCH_TOOLS ?? join(process.env.HOME ?? '/root', '.cache/perch-tools');
const VENV = join(TOOLS, 's3-venv/bin');
const PYTHON = join(VENV, 'python');
const AWS = join(VENV, 'aws');
const MINIO_GO = join(TOOLS, 'bin/minio-go-client');
const BOTO3_SCRIPT = join(__dirname, 'boto3-client.py');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, cmd)));
}
const have = {
  boto3: existsSync(PYTHON),
  aws: existsSync(AWS),
  rclone: onPath('rclone'),
  s3cmd: onPath('s3cmd'),
  curl: onPath('curl'),
  minio: existsSync(MINIO_GO),
};
const missing = Object.entries(have).filter(([, ok]) => !ok).map(([tool]) => tool);
// CI installs every client (.ci/run runs install-tools.sh all): there a missing one is a failure, not a skip.
if (missing.length > 0 && process.env.CI) throw new Error(`S3 clients missing in CI: ${missing.join(', ')}; run scripts/install-tools.sh s3clients (and apt for rclone, s3cmd)`);
for (const tool of missing) console.warn(`[s3api] ${tool} is not installed (scripts/install-tools.sh s3clients): its tests skip`);

let s3: S3Capture;
let dir: string;
let caPath: string;
let small: string;
let big: string;
const modes: string[] = [];

/** What the requests since `mark` sent, one line per request, for the summary. */
function note(client: string, what: string, requests: CapturedRequest[]): void {
  for (const r of requests) {
    const extras = Object.entries(r.extras)
      .filter(([k]) => k !== 'content-length')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    modes.push(`${client.padEnd(10)} ${what.padEnd(22)} ${r.method.padEnd(6)} ${(r.auth ?? '-').padEnd(9)} ${(r.contentSha256 ?? '-').slice(0, 42).padEnd(42)} ${r.result}${extras ? `  [${extras}]` : ''}`);
  }
}

function expectAllOk(requests: CapturedRequest[]): void {
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) expect(`${r.method} ${r.url} ${r.result} ${r.message ?? ''}`).toMatch(/ ok $/);
}

/** The error the payload checks must give for a body altered in flight, by the mode sent. */
function tamperCode(r: CapturedRequest): string {
  const mode = r.contentSha256 ?? '';
  if (/^[0-9a-f]{64}$/i.test(mode)) return 'XAmzContentSHA256Mismatch';
  if (mode.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return 'SignatureDoesNotMatch';
  return 'BadDigest'; // UNSIGNED-PAYLOAD or the unsigned trailer: only a checksum can tell
}

function bodyRequests(requests: CapturedRequest[]): CapturedRequest[] {
  return requests.filter((r) => r.method === 'PUT' && !r.url.match(/^\/[^/?]+\/?(\?.*)?$/));
}

/** Runs a tampered upload; asserts that the server refused it with the mode's payload error. */
async function expectTamperRefused(client: string, upload: () => Promise<CommandResult | { code: number }>): Promise<void> {
  const mark = s3.requests.length;
  s3.tamper = true;
  let result;
  try {
    result = await upload();
  } finally {
    s3.tamper = false;
  }
  const puts = bodyRequests(s3.since(mark)).filter((r) => r.tampered);
  note(client, 'tampered body', puts);
  expect(result.code).not.toBe(0);
  expect(puts.length).toBeGreaterThan(0);
  for (const r of puts) expect(r.result).toBe(tamperCode(r));
}

beforeAll(async () => {
  dir = tempDir('s3api-clients-');
  const ca = await makeCa(dir, 'perch s3 test CA');
  const cert = await issue(ca, dir, 'server', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1'], server: true });
  caPath = ca.certPath;
  s3 = await startS3Capture({ credentials: { [ACCESS]: SECRET }, tls: cert });
  small = join(dir, 'small.txt');
  writeFileSync(small, 'hello from a real S3 client\n');
  big = join(dir, 'big.bin');
  writeFileSync(big, randomBytes(5 * 1024 * 1024 + 123));
});

afterAll(async () => {
  await s3?.close();
  if (modes.length > 0) {
    const text = ['client     what                   method auth      x-amz-content-sha256                       result', ...modes].join('\n');
    console.log(`[s3api] payload modes seen:\n${text}`);
    mkdirSync('test/artifacts', { recursive: true });
    writeFileSync('test/artifacts/s3api-payload-modes.txt', `${text}\n`);
  }
});

// --- boto3 ---------------------------------------------------------------------------------
async function boto3(args: Record<string, unknown>): Promise<CommandResult & { json: Record<string, unknown> }> {
  const r = await runCommand(PYTHON, [BOTO3_SCRIPT, JSON.stringify({ access: ACCESS, secret: SECRET, bucket: BUCKET, ...args })], {
    allowFailure: true,
    timeoutMs: 60_000,
    env: { ...process.env, AWS_CA_BUNDLE: caPath, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  } catch {
    /* the stderr says why */
  }
  return { ...r, json };
}

describe.skipIf(!have.boto3)('boto3', () => {
  for (const scheme of ['http', 'https'] as const) {
    const endpoint = () => (scheme === 'http' ? s3.httpUrl : s3.httpsUrl!);
    it(`put and get a small and a 5 MiB file over ${scheme}`, async () => {
      for (const [file, key] of [[small, `boto3/${scheme}/small file +ü=~.txt`], [big, `boto3/${scheme}/big.bin`]] as const) {
        const mark = s3.requests.length;
        const put = await boto3({ op: 'put', endpoint: endpoint(), key, file });
        expect(put.code, put.stderr).toBe(0);
        const out = join(dir, `boto3-${scheme}-out`);
        const get = await boto3({ op: 'get', endpoint: endpoint(), key, file: out });
        expect(get.code, get.stderr).toBe(0);
        expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
        note('boto3', `put+get ${scheme} ${file === big ? '5MiB' : 'small'}`, s3.since(mark));
        expectAllOk(s3.since(mark));
      }
      const mark = s3.requests.length;
      const list = await boto3({ op: 'list', endpoint: endpoint() });
      expect(list.code, list.stderr).toBe(0);
      expect(list.json.keys).toContain(`boto3/${scheme}/big.bin`);
      expectAllOk(s3.since(mark));
    });
  }

  it('puts with SHA256 and SHA1 trailing checksums over https', async () => {
    for (const checksum of ['SHA256', 'SHA1', 'CRC32']) {
      const mark = s3.requests.length;
      const put = await boto3({ op: 'put', endpoint: s3.httpsUrl, key: `boto3/trailer-${checksum}`, file: big, checksum });
      expect(put.code, put.stderr).toBe(0);
      note('boto3', `put https ${checksum}`, s3.since(mark));
      expectAllOk(s3.since(mark));
    }
  });

  it('a wrong secret is SignatureDoesNotMatch', async () => {
    const mark = s3.requests.length;
    const put = await boto3({ op: 'put', endpoint: s3.httpUrl, key: 'boto3/wrong', file: small, secret: WRONG });
    expect(put.code).not.toBe(0);
    expect(put.json.error).toBe('SignatureDoesNotMatch');
    expect(s3.since(mark).map((r) => r.result)).toEqual(['SignatureDoesNotMatch']);
  });

  for (const scheme of ['http', 'https'] as const) {
    it(`a body altered in flight over ${scheme} fails its payload check`, async () => {
      await expectTamperRefused('boto3', () => boto3({ op: 'put', endpoint: scheme === 'http' ? s3.httpUrl : s3.httpsUrl, key: 'boto3/tampered', file: big }));
    });
  }

  it('presigned GET and PUT URLs work with curl; an expired one is AccessDenied', async () => {
    const key = 'boto3/presigned ü+=.bin';
    const putUrl = await boto3({ op: 'presign', method: 'put_object', endpoint: s3.httpUrl, key, expires: 300 });
    expect(putUrl.code, putUrl.stderr).toBe(0);
    let mark = s3.requests.length;
    const put = await runCommand('curl', ['-sS', '-f', '-T', big, String(putUrl.json.url)], { allowFailure: true });
    expect(put.code, put.stderr + put.stdout).toBe(0);
    note('curl', 'presigned PUT (boto3)', s3.since(mark));
    expectAllOk(s3.since(mark));

    const getUrl = await boto3({ op: 'presign', method: 'get_object', endpoint: s3.httpUrl, key, expires: 300 });
    mark = s3.requests.length;
    const out = join(dir, 'presigned-out');
    const get = await runCommand('curl', ['-sS', '-f', '-o', out, String(getUrl.json.url)], { allowFailure: true });
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(out).equals(readFileSync(big))).toBe(true);
    note('curl', 'presigned GET (boto3)', s3.since(mark));
    expectAllOk(s3.since(mark));

    // An altered URL (another key) does not verify.
    mark = s3.requests.length;
    const other = await runCommand('curl', ['-sS', '-f', '-o', out, String(getUrl.json.url).replace('presigned', 'presignee')], { allowFailure: true });
    expect(other.code).not.toBe(0);
    expect(s3.since(mark).map((r) => r.result)).toEqual(['SignatureDoesNotMatch']);

    // The URL's time runs out: the server's clock five minutes and a second later.
    s3.clockOffsetMs = 301_000;
    try {
      mark = s3.requests.length;
      const late = await runCommand('curl', ['-sS', '-o', out, '-w', '%{http_code}', String(getUrl.json.url)], { allowFailure: true });
      expect(late.stdout).toBe('403');
      expect(readFileSync(out, 'utf8')).toContain('<Code>AccessDenied</Code>');
      expect(s3.since(mark).map((r) => r.result)).toEqual(['AccessDenied']);
      note('curl', 'expired presigned GET', s3.since(mark));
    } finally {
      s3.clockOffsetMs = 0;
    }

    // A week and a day is more than S3 allows.
    const tooLong = await boto3({ op: 'presign', method: 'get_object', endpoint: s3.httpUrl, key, expires: 8 * 24 * 3600 });
    mark = s3.requests.length;
    await runCommand('curl', ['-sS', '-o', out, String(tooLong.json.url)], { allowFailure: true });
    expect(s3.since(mark).map((r) => r.result)).toEqual(['AuthorizationQueryParametersError']);
  });

  it('presigned PUT with a tampered body passes: UNSIGNED-PAYLOAD signs no body (S3 the same)', async () => {
    const url = await boto3({ op: 'presign', method: 'put_object', endpoint: s3.httpUrl, key: 'boto3/presigned-tampered', expires: 300 });
    const mark = s3.requests.length;
    s3.tamper = true;
    try {
      await runCommand('curl', ['-sS', '-f', '-T', small, String(url.json.url)], { allowFailure: true });
    } finally {
      s3.tamper = false;
    }
    expect(s3.since(mark).map((r) => [r.result, r.tampered])).toEqual([['ok', true]]);
  });
});

// --- AWS CLI -------------------------------------------------------------------------------
function awsEnv(secret = SECRET): NodeJS.ProcessEnv {
  const config = join(dir, 'aws-config');
  writeFileSync(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: ACCESS,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CA_BUNDLE: caPath,
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
  };
}
function aws(args: string[], endpoint: string, secret?: string): Promise<CommandResult> {
  return runCommand(AWS, [...args, '--endpoint-url', endpoint], { env: awsEnv(secret), allowFailure: true, timeoutMs: 90_000 });
}

describe.skipIf(!have.aws)('AWS CLI', () => {
  for (const scheme of ['http', 'https'] as const) {
    it(`aws s3 cp up and down, small and 5 MiB, and ls, over ${scheme}`, async () => {
      const endpoint = scheme === 'http' ? s3.httpUrl : s3.httpsUrl!;
      for (const file of [small, big]) {
        const key = `awscli/${scheme}/${file === big ? 'big.bin' : 'small ü+=~.txt'}`;
        const mark = s3.requests.length;
        const up = await aws(['s3', 'cp', file, `s3://${BUCKET}/${key}`], endpoint);
        expect(up.code, up.stderr).toBe(0);
        const out = join(dir, `awscli-out-${scheme}`);
        const down = await aws(['s3', 'cp', `s3://${BUCKET}/${key}`, out], endpoint);
        expect(down.code, down.stderr).toBe(0);
        expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
        note('awscli', `cp ${scheme} ${file === big ? '5MiB' : 'small'}`, s3.since(mark));
        expectAllOk(s3.since(mark));
      }
      const mark = s3.requests.length;
      const ls = await aws(['s3', 'ls', `s3://${BUCKET}/awscli/${scheme}/`], endpoint);
      expect(ls.code, ls.stderr).toBe(0);
      expect(ls.stdout).toContain('big.bin');
      expectAllOk(s3.since(mark));
    });
  }

  it('a wrong secret is SignatureDoesNotMatch', async () => {
    const mark = s3.requests.length;
    const up = await aws(['s3api', 'put-object', '--bucket', BUCKET, '--key', 'awscli/wrong', '--body', small], s3.httpUrl, WRONG);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain('SignatureDoesNotMatch');
    expect(new Set(s3.since(mark).map((r) => r.result))).toEqual(new Set(['SignatureDoesNotMatch']));
  });

  it('a body altered in flight fails its payload check (http and https)', async () => {
    await expectTamperRefused('awscli', () => aws(['s3api', 'put-object', '--bucket', BUCKET, '--key', 'awscli/tampered', '--body', big], s3.httpUrl));
    await expectTamperRefused('awscli', () => aws(['s3api', 'put-object', '--bucket', BUCKET, '--key', 'awscli/tampered', '--body', big], s3.httpsUrl!));
  });
});

// --- rclone --------------------------------------------------------------------------------
function rclone(args: string[], secret = SECRET): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG: join(dir, 'rclone.conf'),
    RCLONE_CONFIG_PERCH_TYPE: 's3',
    RCLONE_CONFIG_PERCH_PROVIDER: 'Other',
    RCLONE_CONFIG_PERCH_ACCESS_KEY_ID: ACCESS,
    RCLONE_CONFIG_PERCH_SECRET_ACCESS_KEY: secret,
    RCLONE_CONFIG_PERCH_ENDPOINT: s3.httpUrl,
    RCLONE_CONFIG_PERCH_REGION: 'us-east-1',
    RCLONE_CONFIG_PERCH_FORCE_PATH_STYLE: 'true',
  };
  // rclone 1.60 cannot combine a CA bundle with its own transport, even for plain http.
  delete env.AWS_CA_BUNDLE;
  writeFileSync(join(dir, 'rclone.conf'), '');
  return runCommand('rclone', [...args, '--retries', '1', '--low-level-retries', '1'], { env, allowFailure: true, timeoutMs: 90_000 });
}

describe.skipIf(!have.rclone)('rclone', () => {
  it('copyto up and down, small and 5 MiB, and ls', async () => {
    for (const file of [small, big]) {
      const key = `rclone/${file === big ? 'big.bin' : 'small ü+=~.txt'}`;
      const mark = s3.requests.length;
      const up = await rclone(['copyto', file, `perch:${BUCKET}/${key}`]);
      expect(up.code, up.stderr).toBe(0);
      const out = join(dir, 'rclone-out');
      const down = await rclone(['copyto', `perch:${BUCKET}/${key}`, out]);
      expect(down.code, down.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
      note('rclone', `copyto ${file === big ? '5MiB' : 'small'}`, s3.since(mark));
      expectAllOk(s3.since(mark));
    }
    const ls = await rclone(['ls', `perch:${BUCKET}/rclone`]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('big.bin');
  });

  it('a wrong secret is SignatureDoesNotMatch', async () => {
    const mark = s3.requests.length;
    const up = await rclone(['copyto', small, `perch:${BUCKET}/rclone/wrong`], WRONG);
    expect(up.code).not.toBe(0);
    expect(new Set(s3.since(mark).map((r) => r.result))).toEqual(new Set(['SignatureDoesNotMatch']));
  });

  it('a body altered in flight fails its payload check', async () => {
    await expectTamperRefused('rclone', () => rclone(['copyto', big, `perch:${BUCKET}/rclone/tampered`]));
  });
});

// --- s3cmd ---------------------------------------------------------------------------------
function s3cmd(args: string[], secret = SECRET): Promise<CommandResult> {
  const host = s3.httpUrl.replace('http://', '');
  const config = join(dir, 's3cmd.cfg');
  writeFileSync(
    config,
    `[default]\naccess_key = ${ACCESS}\nsecret_key = ${secret}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\nmax_retries = 1\n`,
  );
  return runCommand('s3cmd', ['-c', config, ...args], { allowFailure: true, timeoutMs: 90_000 });
}

describe.skipIf(!have.s3cmd)('s3cmd', () => {
  it('put and get, small and 5 MiB, and ls', async () => {
    for (const file of [small, big]) {
      const key = `s3cmd/${file === big ? 'big.bin' : 'small ü+=~.txt'}`;
      const mark = s3.requests.length;
      const up = await s3cmd(['put', file, `s3://${BUCKET}/${key}`]);
      expect(up.code, up.stderr + up.stdout).toBe(0);
      const out = join(dir, 's3cmd-out');
      const down = await s3cmd(['get', '--force', `s3://${BUCKET}/${key}`, out]);
      expect(down.code, down.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
      note('s3cmd', `put+get ${file === big ? '5MiB' : 'small'}`, s3.since(mark));
      expectAllOk(s3.since(mark));
    }
    const ls = await s3cmd(['ls', `s3://${BUCKET}/s3cmd/`]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('big.bin');
  });

  it('a wrong secret is SignatureDoesNotMatch', async () => {
    const mark = s3.requests.length;
    const up = await s3cmd(['put', small, `s3://${BUCKET}/s3cmd/wrong`], WRONG);
    expect(up.code).not.toBe(0);
    expect(new Set(s3.since(mark).map((r) => r.result))).toEqual(new Set(['SignatureDoesNotMatch']));
  });

  it('a body altered in flight fails its payload check', async () => {
    await expectTamperRefused('s3cmd', () => s3cmd(['put', big, `s3://${BUCKET}/s3cmd/tampered`]));
  });
});

// --- curl --aws-sigv4 ----------------------------------------------------------------------
function curl(args: string[], secret = SECRET): Promise<CommandResult> {
  return runCommand('curl', ['-sS', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${ACCESS}:${secret}`, ...args], { allowFailure: true });
}

describe.skipIf(!have.curl)('curl --aws-sigv4', () => {
  // curl 7.88 sends no x-amz-content-sha256 of its own, which S3 requires: say UNSIGNED-PAYLOAD
  // (curl signs every header given with -H), or give the body's hex SHA-256.
  const unsigned = ['-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD'];

  it('without x-amz-content-sha256 the request is refused as S3 does', async () => {
    const mark = s3.requests.length;
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code}', `${s3.httpUrl}/${BUCKET}/`]);
    expect(r.stdout).toBe('400');
    note('curl', 'GET no content-sha256', s3.since(mark));
    expect(s3.since(mark).map((q) => q.result)).toEqual(['MissingSecurityHeader']);
  });

  it('PUT and GET a small and a 5 MiB file', async () => {
    for (const file of [small, big]) {
      const key = file === big ? 'curl/big.bin' : 'curl/small%20%C3%BC%2B%3D~.txt';
      let mark = s3.requests.length;
      const up = await curl([...unsigned, '-f', '-T', file, `${s3.httpUrl}/${BUCKET}/${key}`]);
      expect(up.code, up.stderr).toBe(0);
      note('curl', `PUT ${file === big ? '5MiB' : 'small'}`, s3.since(mark));
      expectAllOk(s3.since(mark));
      mark = s3.requests.length;
      const out = join(dir, 'curl-out');
      const down = await curl([...unsigned, '-f', '-o', out, `${s3.httpUrl}/${BUCKET}/${key}`]);
      expect(down.code, down.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
      expectAllOk(s3.since(mark));
    }
  });

  it('with the hex SHA-256 of the body, a tampered body is XAmzContentSHA256Mismatch; a wrong secret SignatureDoesNotMatch', async () => {
    const { createHash } = await import('node:crypto');
    const hex = createHash('sha256').update(readFileSync(big)).digest('hex');
    let mark = s3.requests.length;
    const ok = await curl(['-H', `x-amz-content-sha256: ${hex}`, '-f', '-T', big, `${s3.httpUrl}/${BUCKET}/curl/signed-body.bin`]);
    expect(ok.code, ok.stderr).toBe(0);
    note('curl', 'PUT signed body', s3.since(mark));
    expectAllOk(s3.since(mark));
    await expectTamperRefused('curl', () => curl(['-H', `x-amz-content-sha256: ${hex}`, '-f', '-T', big, `${s3.httpUrl}/${BUCKET}/curl/signed-body.bin`]));
    mark = s3.requests.length;
    const wrong = await curl([...unsigned, '-f', '-T', small, `${s3.httpUrl}/${BUCKET}/curl/wrong`], WRONG);
    expect(wrong.code).not.toBe(0);
    expect(s3.since(mark).map((r) => r.result)).toEqual(['SignatureDoesNotMatch']);
  });
});

// --- minio-go (Go) -------------------------------------------------------------------------
function minio(args: string[], secret = SECRET): Promise<CommandResult> {
  return runCommand(MINIO_GO, [s3.httpUrl.replace('http://', ''), ACCESS, secret, ...args], { allowFailure: true, timeoutMs: 90_000 });
}

describe.skipIf(!have.minio)('minio-go (STREAMING-AWS4-HMAC-SHA256-PAYLOAD over http)', () => {
  it('put and get a small and a 5 MiB file, signed chunks', async () => {
    for (const file of [small, big]) {
      const key = `minio/${file === big ? 'big.bin' : 'small ü+=~.txt'}`;
      const mark = s3.requests.length;
      const up = await minio(['put', BUCKET, key, file]);
      expect(up.code, up.stderr).toBe(0);
      const out = join(dir, 'minio-out');
      const down = await minio(['get', BUCKET, key, out]);
      expect(down.code, down.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
      note('minio-go', `put+get ${file === big ? '5MiB' : 'small'}`, s3.since(mark));
      expectAllOk(s3.since(mark));
      expect(bodyRequests(s3.since(mark)).map((r) => r.contentSha256)).toEqual(['STREAMING-AWS4-HMAC-SHA256-PAYLOAD']);
    }
  });

  it('signed chunks with a signed trailing checksum (crc32c, crc32, sha256, sha1)', async () => {
    for (const checksum of ['crc32c', 'crc32', 'sha256', 'sha1']) {
      const mark = s3.requests.length;
      const up = await minio(['put', BUCKET, `minio/trailer-${checksum}`, big, checksum]);
      expect(up.code, up.stderr).toBe(0);
      note('minio-go', `put trailer ${checksum}`, s3.since(mark));
      expectAllOk(s3.since(mark));
      expect(bodyRequests(s3.since(mark)).map((r) => r.contentSha256)).toEqual(['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER']);
    }
  });

  it('a wrong secret is SignatureDoesNotMatch; a tampered chunk fails its chunk signature', async () => {
    const mark = s3.requests.length;
    const up = await minio(['put', BUCKET, 'minio/wrong', small], WRONG);
    expect(up.code).not.toBe(0);
    expect(new Set(s3.since(mark).map((r) => r.result))).toEqual(new Set(['SignatureDoesNotMatch']));
    await expectTamperRefused('minio-go', () => minio(['put', BUCKET, 'minio/tampered', big]));
  });
});

// --- AWS SDK for JavaScript v3 (in process) ------------------------------------------------
describe('AWS SDK for JavaScript v3', () => {
  function client(secret = SECRET): S3Client {
    return new S3Client({
      endpoint: s3.httpUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS, secretAccessKey: secret },
      maxAttempts: 1,
    });
  }

  it('PutObject from a Buffer and from a stream (aws-chunked with a trailer), GetObject, presigned GET', async () => {
    const c = client();
    const data = readFileSync(big);
    let mark = s3.requests.length;
    await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'js/buffer.bin', Body: data }));
    note('js-sdk', 'PutObject Buffer', s3.since(mark));
    expectAllOk(s3.since(mark));

    mark = s3.requests.length;
    await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'js/stream ü+=~.bin', Body: Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]), ContentLength: data.length }));
    note('js-sdk', 'PutObject stream', s3.since(mark));
    expectAllOk(s3.since(mark));

    mark = s3.requests.length;
    const got = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'js/stream ü+=~.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expectAllOk(s3.since(mark));

    const url = await getSignedUrl(c, new GetObjectCommand({ Bucket: BUCKET, Key: 'js/stream ü+=~.bin' }), { expiresIn: 60 });
    mark = s3.requests.length;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    note('js-sdk', 'presigned GET', s3.since(mark));
    expectAllOk(s3.since(mark));
    c.destroy();
  });

  it('a wrong secret is SignatureDoesNotMatch; a tampered stream body fails its checksum', async () => {
    const bad = client(WRONG);
    const err = await bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'js/wrong', Body: 'x' })).then(
      () => ({ name: 'accepted' }),
      (e: unknown) => e as { name: string },
    );
    expect(err.name).toBe('SignatureDoesNotMatch');
    bad.destroy();
    const c = client();
    const data = readFileSync(big);
    await expectTamperRefused('js-sdk', async () => {
      try {
        await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'js/tampered', Body: Readable.from([data]), ContentLength: data.length }));
        return { code: 0 };
      } catch {
        return { code: 1 };
      }
    });
    c.destroy();
  });
});
