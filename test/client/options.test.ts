/**
 * perch/client's options and refusals through the real interface, against the bundled perch:
 * `{ token }` (a token from perch's /v2/token, then used alone), `ca` and `insecure` over
 * https with a certificate from a private CA (and the 'tls' error naming the fix without
 * them), and a user whom http.accessControl lets only read getting 'denied' when pushing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError } from 'perch/client';
import { issue, makeCa } from '../helpers/certificates';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { tempDir } from '../helpers/temp-dir';

const USER = 'client-user';
const PASSWORD = 'Client-Opt-Pw-31';
const READER = 'client-reader';
const READER_PASSWORD = 'Reader-Opt-Pw-13';

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe('perch/client against perch with Bearer logins and access control', () => {
  let registry: RunningRegistry;

  beforeAll(async () => {
    const dir = tempDir('perch-client-opt-');
    const entry = (user: string, password: string) => `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`;
    writeFileSync(join(dir, 'htpasswd'), `${entry(USER, PASSWORD)}\n${entry(READER, READER_PASSWORD)}\n`);
    registry = await startRegistry({
      config: {
        http: {
          auth: { htpasswd: { path: join(dir, 'htpasswd') } },
          accessControl: {
            repositories: {
              '**': {
                policies: [
                  { users: [USER], actions: ['read', 'create', 'update', 'delete'] },
                  { users: [READER], actions: ['read'] },
                ],
                defaultPolicy: [],
              },
            },
          },
        },
        perch: { auth: { challenge: 'bearer', tokenKeyFile: join(dir, 'token.key') } },
      },
    });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('{ token }: a token from /v2/token (asked with Basic credentials) pushes and pulls alone; a token it did not issue is "unauthorized"', async () => {
    // The realm and service the registry names in its challenge, as any client finds them.
    const challenge = (await fetch(`${registry.url}/v2/`)).headers.get('www-authenticate') ?? '';
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
    const service = /service="([^"]+)"/.exec(challenge)?.[1];
    expect(realm).toBeDefined();
    const url = new URL(realm!);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', 'repository:tokens/art:pull,push');
    const answer = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
    expect(answer.status).toBe(200);
    const { token } = (await answer.json()) as { token: string };

    const client = new RegistryClient(registry.url, { token });
    try {
      const pushed = await client.pushArtifact('tokens/art', 'v1', { files: [{ data: 'pushed with a token\n', title: 'a.txt' }] });
      const pulled = await client.pullArtifact('tokens/art', 'v1');
      expect(pulled.digest).toBe(pushed.digest);
      expect((await pulled.files[0].bytes()).toString()).toBe('pushed with a token\n');
    } finally {
      client.close();
    }

    const forged = new RegistryClient(registry.url, { token: `${token.slice(0, -4)}AAAA` });
    const err = await failure(forged.listTags('tokens/art'));
    forged.close();
    expect(err.kind).toBe('unauthorized');
    expect(err.status).toBe(401);
    expect(err.message).toMatch(new RegExp(`^authentication failed: the registry at ${registry.url} did not accept the token \\(.*401.*\\)\\. Check that the token is current and meant for this registry$`));
    expect(err.message).not.toContain(token);
  });

  it('a user who may only read pushing: "denied" (403), naming the user, the repository and the permission missing', async () => {
    const reader = new RegistryClient(registry.url, { username: READER, password: READER_PASSWORD });
    try {
      const err = await failure(reader.pushArtifact('team/readonly', 'v1', { files: [{ data: 'not allowed', title: 'x.txt' }] }));
      expect(err.kind).toBe('denied');
      expect(err.status).toBe(403);
      expect(err.code).toBe('DENIED');
      expect(err.message).toMatch(
        new RegExp(
          `^the registry at ${registry.url} denied the upload of blob sha256:[0-9a-f]{64} to team/readonly \\(403 DENIED: [^)]+\\): user "${READER}" needs "create" \\(and "update" to replace a tag\\) permission on team/readonly$`,
        ),
      );
      expect(err.message).not.toContain(READER_PASSWORD);
      // Reading is what it may do.
      expect(await reader.resolve('team/readonly', 'v1')).toBeUndefined();
    } finally {
      reader.close();
    }
  });

  it('https:// to this plain-HTTP registry: "tls", saying to use http://', async () => {
    const client = new RegistryClient(`https://${registry.host}`);
    const err = await failure(client.listTags('team/readonly'));
    client.close();
    expect(err.kind).toBe('tls');
    expect(err.message).toBe(`the registry at https://${registry.host} does not answer in TLS (wrong version number); if it serves plain HTTP, use http://${registry.host}`);
  });
});

describe('perch/client over https with a certificate from a private CA', () => {
  let registry: RunningRegistry;
  let caPem: Buffer;
  let url: string;

  beforeAll(async () => {
    const dir = tempDir('perch-client-tls-');
    const ca = await makeCa(dir, 'perch client test CA');
    const server = await issue(ca, dir, 'server', { subject: '/CN=127.0.0.1', san: ['IP:127.0.0.1'], server: true });
    caPem = readFileSync(ca.certPath);
    registry = await startRegistry({ config: { http: { tls: { cert: server.certPath, key: server.keyPath } } } });
    url = `https://${registry.host}`;
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('{ ca } trusts it: push and pull over https', async () => {
    const client = new RegistryClient(url, { ca: caPem });
    try {
      const pushed = await client.pushArtifact('tls/art', 'v1', { files: [{ data: 'over TLS\n', title: 't.txt' }] });
      const pulled = await client.pullArtifact('tls/art', 'v1');
      expect(pulled.digest).toBe(pushed.digest);
      expect((await pulled.files[0].bytes()).toString()).toBe('over TLS\n');
    } finally {
      client.close();
    }
  });

  it("without { ca }: 'tls', naming OpenSSL's reason and both fixes", async () => {
    const client = new RegistryClient(url);
    const err = await failure(client.listTags('tls/art'));
    client.close();
    expect(err.kind).toBe('tls');
    expect(err.status).toBeUndefined();
    expect(err.message).toBe(
      `the registry at ${url} has a TLS certificate this machine does not trust (unable to verify the first certificate): pass the CA certificate that signed it as { ca: fs.readFileSync('ca.pem') }, or { insecure: true } to skip verification`,
    );
  });

  it('{ insecure: true } skips verification', async () => {
    const client = new RegistryClient(url, { insecure: true });
    try {
      expect(await client.listTags('tls/art')).toEqual(['v1']);
    } finally {
      client.close();
    }
  });

  it('{ insecure: true } is also what allows plain HTTP to a host that is not loopback', () => {
    const err = (() => {
      try {
        return new RegistryClient('http://registry.example.com');
      } catch (e) {
        return e;
      }
    })() as RegistryError;
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe(
      'the registry address http://registry.example.com is plain HTTP to registry.example.com, which is not a loopback address: pass { insecure: true } if you mean it (credentials and charts travel unencrypted), or use https://',
    );
    expect(new RegistryClient('http://registry.example.com', { insecure: true }).host).toBe('registry.example.com');
  });
});
