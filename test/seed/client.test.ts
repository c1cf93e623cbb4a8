/**
 * The seed client's protocol handling against small fake servers over real loopback sockets:
 * Bearer tokens from a token service on another port, a second challenge mid-push, Basic,
 * waiting for a registry that is not up yet, and the message for each refusal. (The real
 * registries, perch and helm are in helm.test.ts and auth.test.ts.)
 */
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  parseChallenges,
  parseSeedArgs,
  seed,
  SEED_ENV,
  SeedError,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from '../../registry-image/src/seed';

const CHARTS_DIR = resolve(__dirname, '../../registry-image/charts');
const PASSWORD = 'correct horse battery staple';

interface FakeRegistry {
  url: string;
  port: number;
  /** "METHOD path [auth scheme]" per request. */
  log: string[];
  manifests: Map<string, Buffer>;
  blobs: Set<string>;
  close(): Promise<void>;
}

type Gate = (req: IncomingMessage, res: ServerResponse) => boolean;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler, tls?: { key: string; cert: string }): Promise<{ server: Server; port: number }> {
  const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A registry that keeps what it is given in memory; `gate` may answer a request first (auth). */
async function startFakeRegistry(gate: Gate = () => false, options: { digestOnHead?: boolean; tls?: { key: string; cert: string } } = {}): Promise<FakeRegistry> {
  const log: string[] = [];
  const manifests = new Map<string, Buffer>();
  const blobs = new Set<string>();
  const { server, port } = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = (req.headers.authorization ?? '').split(' ')[0];
    log.push(`${req.method} ${url.pathname}${auth ? ` [${auth}]` : ''}`);
    if (gate(req, res)) return;
    const data = await body(req);
    let m: RegExpExecArray | null;
    if (url.pathname === '/v2/') {
      res.writeHead(200).end('{}');
    } else if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname))) {
      const key = `${m[1]}:${m[2]}`;
      if (req.method === 'PUT') {
        manifests.set(key, data);
        const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
        res.writeHead(201, { 'Docker-Content-Digest': digest }).end();
      } else if (!manifests.has(key)) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      } else {
        const stored = manifests.get(key)!;
        const headers: Record<string, string | number> = { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': stored.length };
        if (options.digestOnHead !== false || req.method === 'GET') headers['Docker-Content-Digest'] = `sha256:${createHash('sha256').update(stored).digest('hex')}`;
        if (options.digestOnHead === false) delete headers['Docker-Content-Digest'];
        res.writeHead(200, headers).end(req.method === 'GET' ? stored : undefined);
      }
    } else if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]+)$/.exec(url.pathname))) {
      res.writeHead(blobs.has(m[2]) ? 200 : 404).end();
    } else if ((m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname)) && req.method === 'POST') {
      res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/session-1?_state=a%3Db` }).end();
    } else if (/\/blobs\/uploads\/session-1$/.test(url.pathname) && req.method === 'PUT') {
      const digest = url.searchParams.get('digest')!;
      const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      if (digest !== actual || url.searchParams.get('_state') !== 'a=b') {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"DIGEST_INVALID","message":"digest mismatch"}]}');
        return;
      }
      blobs.add(digest);
      res.writeHead(201, { Location: `/v2/x/blobs/${digest}` }).end();
    } else {
      res.writeHead(404).end();
    }
  }, options.tls);
  servers.push(server);
  return { url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, log, manifests, blobs, close: async () => {} };
}

const options = (registry: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  parseSeedArgs(['--registry', registry, '--chart', 'nginx-test@1.0.0', '--timeout', '5s', ...argv], env);
const withCreds = { [SEED_ENV.username]: 'roost-test', [SEED_ENV.password]: PASSWORD };

async function seedError(promise: Promise<unknown>): Promise<SeedError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SeedError);
    expect((err as Error).message).not.toContain(PASSWORD);
    return err as SeedError;
  }
  throw new Error('seed did not fail');
}

describe('WWW-Authenticate parsing', () => {
  it('reads several challenges, quoted values with commas and escapes, and lower-cases names', () => {
    expect(parseChallenges('Basic realm="perch", Bearer realm="http://h/v2/token",service="h:5000",scope="repository:a/b:pull,push",error="x\\"y"')).toEqual([
      { scheme: 'basic', params: { realm: 'perch' } },
      { scheme: 'bearer', params: { realm: 'http://h/v2/token', service: 'h:5000', scope: 'repository:a/b:pull,push', error: 'x"y' } },
    ]);
    expect(parseChallenges('BEARER Realm=http://t/token , Service=reg')).toEqual([{ scheme: 'bearer', params: { realm: 'http://t/token', service: 'reg' } }]);
    expect(parseChallenges(undefined)).toEqual([]);
  });
});

describe('Bearer', () => {
  it('fetches a token from the realm with GET + Basic for each repository and pushes with it; a second challenge mid-push is answered once', async () => {
    const tokenRequests: URL[] = [];
    let issued = 0;
    const { server: tokenServer, port: tokenPort } = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      tokenRequests.push(url);
      const expected = `Basic ${Buffer.from(`roost-test:${PASSWORD}`).toString('base64')}`;
      if (req.method !== 'GET' || req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="token"' }).end();
        return;
      }
      // access_token only (the OAuth2 name), which clients must accept as well as `token`.
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: `tok-${++issued}` }));
    });
    servers.push(tokenServer);
    const realm = `http://127.0.0.1:${tokenPort}/auth/token`;
    let putManifestAttempts = 0;
    const registry = await startFakeRegistry((req, res) => {
      const challenge = `Bearer realm="${realm}",service="fake-registry",scope="repository:roost-test/nginx-test:pull,push"`;
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer tok-')) {
        res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return true;
      }
      // The first manifest PUT finds the token "expired": a client must fetch a new one and retry.
      if (req.method === 'PUT' && req.url?.includes('/manifests/') && putManifestAttempts++ === 0) {
        res.writeHead(401, { 'WWW-Authenticate': `${challenge},error="invalid_token"` }).end();
        return true;
      }
      return false;
    });

    const logLines: string[] = [];
    const results = await seed(options(registry.url, [], withCreds), { password: PASSWORD, chartsDir: CHARTS_DIR, log: (l) => logLines.push(l) });
    expect(results.map((r) => r.outcome)).toEqual(['pushed']);
    expect(registry.manifests.has('roost-test/nginx-test:1.0.0')).toBe(true);
    expect(registry.blobs.size).toBe(2);
    // One token to check the credentials (no scope), one for the repository, one after the second challenge.
    expect(tokenRequests.map((u) => [u.searchParams.get('service'), u.searchParams.getAll('scope')])).toEqual([
      ['fake-registry', []],
      ['fake-registry', ['repository:roost-test/nginx-test:pull,push']],
      ['fake-registry', ['repository:roost-test/nginx-test:pull,push']],
    ]);
    expect(registry.log.filter((l) => l.includes('[Basic]'))).toEqual([]);
    expect(logLines.join('\n')).not.toContain(PASSWORD);
  });

  it('a token service that refuses the credentials: "authentication failed", naming the user and where to fix the password', async () => {
    const { server, port } = await listen((_req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    });
    servers.push(server);
    const registry = await startFakeRegistry((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="s"` }).end();
      return true;
    });
    const err = await seedError(seed(options(registry.url, [], withCreds), { password: PASSWORD, chartsDir: CHARTS_DIR }));
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(
      `authentication failed: the registry at ${registry.url} did not accept the password of user "roost-test" (token request to http://127.0.0.1:${port}/token: 401 UNAUTHORIZED: authentication required). Check the username and password: pass --username and --password-stdin, or set PERCH_SEED_USERNAME and PERCH_SEED_PASSWORD`,
    );
    expect(registry.log).toEqual(['GET /v2/']);
  });

  it('will not send credentials to a plain-HTTP token realm on a host that is not loopback', async () => {
    const registry = await startFakeRegistry((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="http://tokens.example.com/token",service="s"' }).end();
      return true;
    });
    const err = await seedError(seed(options(registry.url, [], withCreds), { password: PASSWORD, chartsDir: CHARTS_DIR }));
    expect(err.message).toBe(
      "the registry's token service http://tokens.example.com is plain HTTP to a host that is not loopback; credentials would travel unencrypted. Pass --insecure to allow it",
    );
  });
});

describe('Basic', () => {
  const basicGate =
    (password: string): Gate =>
    (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from(`roost-test:${password}`).toString('base64')}`) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"', 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return true;
      }
      return false;
    };

  it('sends Basic credentials on every request after the challenge', async () => {
    const registry = await startFakeRegistry(basicGate(PASSWORD));
    await seed(options(registry.url, [], withCreds), { password: PASSWORD, chartsDir: CHARTS_DIR });
    const [ping, ...rest] = registry.log;
    expect(ping).toBe('GET /v2/');
    expect(rest.length).toBeGreaterThan(4);
    expect(rest.every((l) => l.endsWith('[Basic]'))).toBe(true);
  });

  it('without credentials: says the registry needs them and how to give them', async () => {
    const registry = await startFakeRegistry(basicGate(PASSWORD));
    const err = await seedError(seed(options(registry.url), { chartsDir: CHARTS_DIR }));
    expect(err.message).toBe(
      `the registry at ${registry.url} requires credentials (GET /v2/ answered 401): pass --username and --password-stdin, or set PERCH_SEED_USERNAME and PERCH_SEED_PASSWORD`,
    );
  });
});

describe('skipping and refusals', () => {
  it('a registry that leaves Docker-Content-Digest off HEAD: the manifest is fetched and hashed, and nothing is pushed twice', async () => {
    const registry = await startFakeRegistry(() => false, { digestOnHead: false });
    await seed(options(registry.url), { chartsDir: CHARTS_DIR });
    registry.log.length = 0;
    const again = await seed(options(registry.url), { chartsDir: CHARTS_DIR });
    expect(again.map((r) => r.outcome)).toEqual(['present']);
    expect(registry.log).toEqual(['GET /v2/', 'HEAD /v2/roost-test/nginx-test/manifests/1.0.0', 'GET /v2/roost-test/nginx-test/manifests/1.0.0']);
  });

  it('a tag holding another manifest is replaced, and blobs already there are not uploaded again', async () => {
    const registry = await startFakeRegistry();
    await seed(options(registry.url), { chartsDir: CHARTS_DIR });
    registry.manifests.set('roost-test/nginx-test:1.0.0', Buffer.from('{"schemaVersion":2}'));
    const [result] = await seed(options(registry.url), { chartsDir: CHARTS_DIR });
    expect(result).toMatchObject({ outcome: 'replaced', previous: `sha256:${createHash('sha256').update('{"schemaVersion":2}').digest('hex')}`, blobsUploaded: 0 });
  });

  it('a refused push names the step, the OCI error code and message, and what to do', async () => {
    const registry = await startFakeRegistry((req, res) => {
      if (req.method === 'POST') {
        res.writeHead(403, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
        return true;
      }
      return false;
    });
    const err = await seedError(seed(options(registry.url), { chartsDir: CHARTS_DIR }));
    expect(err.kind).toBe('refused');
    expect(err.message).toMatch(
      new RegExp(
        `^the registry at ${registry.url} refused the upload of blob sha256:[a-f0-9]{64} to roost-test/nginx-test: 403 DENIED: requested access to the resource is denied\\. The registry lets anonymous users read only: pass credentials of a user allowed to push to roost-test/nginx-test\\.$`,
      ),
    );
  });

  it('an address that is not a registry (404 on /v2/) is reported at once, without waiting', async () => {
    const { server, port } = await listen((_req, res) => res.writeHead(404).end('not here'));
    servers.push(server);
    const err = await seedError(seed(options(`http://127.0.0.1:${port}`), { chartsDir: CHARTS_DIR }));
    expect(err.message).toBe(`http://127.0.0.1:${port} does not answer as an OCI registry (GET /v2/ answered 404 not here); check --registry`);
  });
});

describe('TLS', () => {
  let tls: { key: string; cert: string } | undefined;
  const selfSigned = async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { generate } = require('selfsigned') as typeof import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    tls ??= { key: pems.private, cert: pems.cert };
    return tls;
  };

  it('a certificate that does not verify stops seed at once, naming NODE_EXTRA_CA_CERTS and --insecure', async () => {
    const registry = await startFakeRegistry(() => false, { tls: await selfSigned() });
    const err = await seedError(seed(options(registry.url), { chartsDir: CHARTS_DIR }));
    expect(err.message).toBe(
      `the registry at ${registry.url} has a TLS certificate this machine does not trust (self-signed certificate): point NODE_EXTRA_CA_CERTS at the CA certificate that signed it, or pass --insecure to skip verification`,
    );
    expect(registry.log).toEqual([]);
  });

  it('--insecure accepts it and pushes over HTTPS', async () => {
    const registry = await startFakeRegistry(() => false, { tls: await selfSigned() });
    const results = await seed(options(registry.url, ['--insecure']), { chartsDir: CHARTS_DIR });
    expect(results.map((r) => r.outcome)).toEqual(['pushed']);
    expect(registry.manifests.has('roost-test/nginx-test:1.0.0')).toBe(true);
  });

  it('https:// to a plain-HTTP registry says so instead of waiting', async () => {
    const registry = await startFakeRegistry();
    const err = await seedError(seed(options(registry.url.replace('http:', 'https:')), { chartsDir: CHARTS_DIR }));
    expect(err.message).toBe(
      `the registry at https://127.0.0.1:${registry.port} does not answer in TLS (wrong version number); if it serves plain HTTP, use --registry http://127.0.0.1:${registry.port}`,
    );
  });
});

describe('waiting for the registry', () => {
  /** A clock that moves only when seed sleeps, and a transport that answers from a script. */
  function scripted(answers: Array<HttpResponse | 'refused'>) {
    let now = 0;
    const sleeps: number[] = [];
    const requests: HttpRequest[] = [];
    const transport: Transport = async (request) => {
      requests.push(request);
      const next = answers.length > 1 ? answers.shift()! : answers[0];
      if (next === 'refused') throw new ConnectionError(request.url, 'connect ECONNREFUSED 127.0.0.1:5999', 'ECONNREFUSED');
      return next;
    };
    const clock = { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)) };
    return { transport, clock, sleeps, requests };
  }

  it('retries with doubling pauses up to the deadline, then says what to check', async () => {
    const s = scripted(['refused']);
    const lines: string[] = [];
    const err = await seedError(
      seed(parseSeedArgs(['--registry', 'http://127.0.0.1:5999', '--timeout', '12s'], {}), { transport: s.transport, clock: s.clock, chartsDir: CHARTS_DIR, log: (l) => lines.push(l) }),
    );
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(
      'cannot reach the registry at http://127.0.0.1:5999 (connect ECONNREFUSED 127.0.0.1:5999), tried for 12s. Check that it is running and that --registry names it; to wait longer, raise --timeout',
    );
    expect(s.sleeps).toEqual([250, 500, 1000, 2000, 4000, 4250]);
    expect(lines).toEqual(['waiting for the registry at http://127.0.0.1:5999 (connect ECONNREFUSED 127.0.0.1:5999); giving up after 12s']);
  });

  it('goes on once the registry answers (503 while starting counts as not yet)', async () => {
    const ok: HttpResponse = { status: 200, headers: {}, body: Buffer.alloc(0) };
    const notFound: HttpResponse = { status: 404, headers: {}, body: Buffer.alloc(0) };
    const unavailable: HttpResponse = { status: 503, headers: {}, body: Buffer.from('{"errors":[{"code":"UNAVAILABLE","message":"storage is not writable"}]}') };
    const s = scripted(['refused', unavailable, ok, notFound]);
    const err = await seedError(seed(options('http://127.0.0.1:5999'), { transport: s.transport, clock: s.clock, chartsDir: CHARTS_DIR }));
    // After GET /v2/ succeeds, seed goes on to the push, which this script refuses with 404s.
    expect(s.sleeps).toEqual([250, 500]);
    expect(s.requests.slice(0, 4).map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /v2/',
      'GET /v2/',
      'GET /v2/',
      'HEAD /v2/roost-test/nginx-test/manifests/1.0.0',
    ]);
    expect(err.message).toMatch(/refused the upload of blob sha256:.* 404\./);
  });
});
