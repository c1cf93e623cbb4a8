/**
 * The trust extension in this process (MemoryStore, no cosign needed): signatures made here
 * with node:crypto in the formats cosign writes (a Sigstore bundle referrer, a legacy
 * simple-signing .sig tag), with ECDSA, Ed25519 and RSA keys, keys from the config and
 * uploaded; what the report says, what it refuses (another manifest's statement, a changed
 * signature), the pull policy for readers and writers, and that the verification cache is
 * used and invalidated by a new key, a removed key and a new referrer.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Auth } from '../../registry-image/src/auth/types';
import { RegistryError } from '../../registry-image/src/http/errors';
import { silentLogger } from '../../registry-image/src/log';
import { MemoryStore } from '../../registry-image/src/storage/memory-store';
import { openTrust, type Trust } from '../../registry-image/src/trust';
import { pae } from '../../registry-image/src/trust/verify-signature';
import { allowAll, startInProcess, testConfig, type InProcessRegistry } from '../helpers/in-process';
import { pushBlob, pushImage, sha256 } from '../helpers/oci-client';
import { tempDir } from '../helpers/temp-dir';

/** Anonymous callers may do everything (the publisher); a request with `x-reader` may only read. */
const readerOrWriter: Auth = {
  ...allowAll,
  authenticate: async (req) => (req.headers['x-reader'] ? { username: 'reader', groups: [] } : { username: null, groups: [] }),
  authorize: (identity, _repository, action) => {
    if (identity.username === 'reader' && action !== 'read') throw new RegistryError('DENIED', 'reader');
  },
};
const READER = { 'x-reader': '1' };
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** A cosign-v3-shaped bundle over an in-toto statement about `digest`. */
function bundle(digest: string, privateKey: KeyObject, predicateType = 'https://sigstore.dev/cosign/sign/v1', predicate: unknown = {}): Buffer {
  const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: digest.slice(7) } }], predicateType, predicate };
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = 'application/vnd.in-toto+json';
  const algorithm = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const sig = sign(algorithm, pae(payloadType, payload), privateKey);
  return Buffer.from(JSON.stringify({ mediaType: BUNDLE, verificationMaterial: { publicKey: { hint: '' } }, dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64') }] } }));
}

async function putManifest(url: string, repo: string, reference: string, manifest: unknown): Promise<string> {
  const body = Buffer.from(JSON.stringify(manifest));
  const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`put manifest: ${res.status} ${await res.text()}`);
  return sha256(body);
}

/** Pushes `layer` as a referrer of `subject` (how cosign v3 stores a bundle). */
async function pushReferrer(url: string, repo: string, subject: { digest: string; size: number }, layer: Buffer, mediaType = BUNDLE): Promise<string> {
  const empty = Buffer.from('{}');
  await pushBlob(url, repo, empty);
  const layerDigest = await pushBlob(url, repo, layer);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: mediaType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
    layers: [{ mediaType, digest: layerDigest, size: layer.length }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...subject },
  };
  return putManifest(url, repo, sha256(JSON.stringify(manifest)), manifest);
}

describe('trust extension, in process', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let registry: InProcessRegistry;
  let trust: Trust;
  const report = async (repo: string, ref: string) => (await (await fetch(`${registry.url}/v2/_zot/ext/trust/${repo}/manifests/${ref}`)).json()) as Record<string, any>;
  const image = async (repo: string) => {
    const pushed = await pushImage(registry.url, repo, 'v1', [Buffer.from(`${repo} ${Math.random()}`)]);
    return { digest: pushed.digest, size: pushed.manifest.length };
  };

  beforeAll(async () => {
    const dir = tempDir('perch-trust-units-');
    const keyFile = join(dir, 'release-ed25519.pub');
    writeFileSync(keyFile, pem(ed.publicKey));
    const config = testConfig(dir);
    config.extensions.trust = { enable: true, cosign: true, notation: false };
    config.perch.trust = { cosignKeys: [keyFile], requireSignature: ['prod/**'] };
    const store = new MemoryStore();
    trust = await openTrust(config, store, silentLogger);
    registry = await startInProcess(store, readerOrWriter, config, { routes: trust.routes, manifestGate: trust.manifestGate });
  });
  afterAll(() => registry?.close());

  it('a config key (Ed25519) verifies a bundle; readers may then pull under the policy', async () => {
    const img = await image('prod/web');
    expect((await fetch(`${registry.url}/v2/prod/web/manifests/v1`, { headers: READER })).status).toBe(403);
    expect((await fetch(`${registry.url}/v2/prod/web/manifests/v1`)).status).toBe(200); // the publisher, to sign it
    await pushReferrer(registry.url, 'prod/web', img, bundle(img.digest, ed.privateKey));
    const r = await report('prod/web', 'v1');
    expect(r.status).toBe('verified');
    expect(r.verifiedBy).toMatchObject({ name: 'release-ed25519.pub', source: 'config' });
    expect((await fetch(`${registry.url}/v2/prod/web/manifests/v1`, { headers: READER })).status).toBe(200);
  });

  it("a platform manifest pulled by digest passes when a verified index of the repository lists it (cosign signs the index)", async () => {
    const amd = await image('prod/multi');
    const arm = await pushImage(registry.url, 'prod/multi', 'arm-build', [Buffer.from(`arm ${Math.random()}`)]);
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    }));
    const put = await fetch(`${registry.url}/v2/prod/multi/manifests/latest`, { method: 'PUT', body: new Uint8Array(index), headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } });
    expect(put.status).toBe(201);
    const pull = async (ref: string) => (await fetch(`${registry.url}/v2/prod/multi/manifests/${ref}`, { headers: READER })).status;
    expect([await pull('latest'), await pull(amd.digest)]).toEqual([403, 403]);
    await pushReferrer(registry.url, 'prod/multi', { digest: sha256(index), size: index.length }, bundle(sha256(index), ed.privateKey));
    expect([await pull('latest'), await pull(amd.digest), await pull(arm.digest)]).toEqual([200, 200, 200]);
    // By tag, a platform manifest is an image of its own: it needs its own signature.
    expect(await pull('arm-build')).toBe(403);
  });

  it('verification is cached per digest, and a new key, a removed key or a new referrer make it verify again', async () => {
    const img = await image('prod/cache');
    await pushReferrer(registry.url, 'prod/cache', img, bundle(img.digest, ec.privateKey));
    const reporter = trust.reporter!;
    const pull = () => fetch(`${registry.url}/v2/prod/cache/manifests/${img.digest}`, { headers: READER });
    expect((await pull()).status).toBe(403); // EC key not trusted yet
    let before = reporter.verifications;
    for (let i = 0; i < 5; i++) expect((await pull()).status).toBe(403);
    expect(reporter.verifications).toBe(before);

    const up = await fetch(`${registry.url}/v2/_zot/ext/cosign?name=ec-key`, { method: 'POST', body: pem(ec.publicKey) });
    expect(up.status).toBe(200);
    const { id } = (await up.json()) as { id: string };
    before = reporter.verifications;
    for (let i = 0; i < 5; i++) expect((await pull()).status).toBe(200);
    expect(reporter.verifications).toBe(before + 1);

    before = reporter.verifications;
    await pushReferrer(registry.url, 'prod/cache', img, bundle(img.digest, ec.privateKey, 'https://cyclonedx.org/bom', { bomFormat: 'CycloneDX' }));
    const r = await report('prod/cache', img.digest);
    expect(reporter.verifications).toBe(before + 1);
    expect(r.attestations).toEqual([expect.objectContaining({ predicateType: 'https://cyclonedx.org/bom', label: 'CycloneDX SBOM', verified: true })]);
    expect(await (await fetch(registry.url + r.attestations[0].predicate)).json()).toEqual({ bomFormat: 'CycloneDX' });

    expect((await fetch(`${registry.url}/v2/_zot/ext/cosign?id=${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await pull()).status).toBe(403);
    expect((await report('prod/cache', img.digest)).status).toBe('unverified');
  });

  it('a statement about another manifest, a changed signature or a bundle without an envelope does not verify', async () => {
    const img = await image('apps/tampered');
    const other = await image('apps/elsewhere');
    await pushReferrer(registry.url, 'apps/tampered', img, bundle(other.digest, ed.privateKey));
    const tampered = JSON.parse(bundle(img.digest, ed.privateKey).toString());
    const sig = Buffer.from(tampered.dsseEnvelope.signatures[0].sig, 'base64');
    sig[sig.length - 1] ^= 1;
    tampered.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    await pushReferrer(registry.url, 'apps/tampered', img, Buffer.from(JSON.stringify(tampered)));
    // A bundle with a messageSignature instead of a DSSE envelope (not what cosign writes for images): signed, not verified.
    await pushReferrer(registry.url, 'apps/tampered', img, Buffer.from(JSON.stringify({ mediaType: BUNDLE, messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: '' }, signature: '' } })));
    const r = await report('apps/tampered', 'v1');
    expect(r.status).toBe('unverified');
    expect(r.attestations).toEqual([]);
    expect(r.signatures.map((s: { reason: string }) => s.reason).sort()).toEqual(
      ['not a DSSE envelope of an in-toto statement', 'signed by a key perch does not trust (unknown key)', 'the statement is about another manifest'].sort(),
    );
  });

  it("cosign's legacy form: a simple-signing payload under sha256-<hex>.sig, signed with an RSA key", async () => {
    const img = await image('apps/legacy-rsa');
    expect((await fetch(`${registry.url}/v2/_zot/ext/cosign?name=rsa-key`, { method: 'POST', body: pem(rsa.publicKey) })).status).toBe(200);
    const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': 'x/apps/legacy-rsa' }, image: { 'docker-manifest-digest': img.digest }, type: 'cosign container image signature' }, optional: null }));
    const config = Buffer.from('{}');
    const payloadDigest = await pushBlob(registry.url, 'apps/legacy-rsa', payload);
    await pushBlob(registry.url, 'apps/legacy-rsa', config);
    const tag = `sha256-${img.digest.slice(7)}.sig`;
    await putManifest(registry.url, 'apps/legacy-rsa', tag, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: payloadDigest, size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, rsa.privateKey).toString('base64') } }],
    });
    const r = await report('apps/legacy-rsa', 'v1');
    expect(r.signatures).toEqual([expect.objectContaining({ format: 'simplesigning', tag, verified: true, key: expect.objectContaining({ name: 'rsa-key' }) })]);
    expect(r.verifiedBy.id).toBe(`sha256:${createHash('sha256').update(rsa.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`);
  });

  it('the routes refuse what they cannot use: a private key, an unknown key id, an unknown manifest', async () => {
    const priv = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await fetch(`${registry.url}/v2/_zot/ext/cosign`, { method: 'POST', body: priv })).status).toBe(400);
    expect((await fetch(`${registry.url}/v2/_zot/ext/cosign?id=sha256:00`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${registry.url}/v2/_zot/ext/trust/apps/none/manifests/v9`)).status).toBe(404);
    // notation is off in this config: zot sets up no route for it.
    expect((await fetch(`${registry.url}/v2/_zot/ext/notation`, { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('with object storage uploads are refused, saying where keys come from instead; an unreadable config key stops the start', async () => {
    const config = testConfig(tempDir('perch-trust-object-'));
    config.extensions.trust = { enable: true, cosign: true, notation: true };
    config.storage.driver = { name: 's3' } as unknown as NonNullable<typeof config.storage.driver>;
    const store = new MemoryStore();
    const objectTrust = await openTrust(config, store, silentLogger);
    const other = await startInProcess(store, allowAll, config, { routes: objectTrust.routes });
    try {
      const res = await fetch(`${other.url}/v2/_zot/ext/cosign`, { method: 'POST', body: pem(ec.publicKey) });
      expect(res.status).toBe(405);
      expect(JSON.stringify(await res.json())).toContain('perch.trust.cosignKeys');
    } finally {
      await other.close();
    }
    config.perch.trust = { cosignKeys: ['/nonexistent/ci.pub'], requireSignature: [] };
    await expect(openTrust(config, store, silentLogger)).rejects.toThrow('perch.trust.cosignKeys: cannot read /nonexistent/ci.pub: ENOENT');
  });
});
