/** Helpers the operations suites share: htpasswd files, raw HTTP(S) requests, a small push and pull. */
import { writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { sha256 } from '../helpers/oci-client';

/** Writes an htpasswd file (bcrypt, cost 4: these tests are not about bcrypt's cost). */
export function writeHtpasswd(path: string, users: Record<string, string>): void {
  writeFileSync(path, Object.entries(users).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}\n`).join(''));
}

export function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The server certificate's SHA-256 fingerprint, over HTTPS. */
  fingerprint?: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** HTTPS: the certificates to trust (none: the system's, which trust nothing here). */
  ca?: string | Buffer;
  /** HTTPS: the name the certificate must carry (SNI and verification). */
  servername?: string;
  /** HTTPS: a client certificate to present. */
  clientCertificate?: { cert: string; key: string };
}

/** One request on a fresh connection (agent: false), so each HTTPS request does its own handshake. */
export function send(url: string, options: RequestOptions = {}): Promise<Reply> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers = { ...(body ? { 'Content-Length': body.length } : {}), ...options.headers };
  return new Promise((resolve, reject) => {
    const callback = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      const fingerprint = https ? (res.socket as TLSSocket).getPeerCertificate().fingerprint256 : undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), fingerprint }));
      res.on('error', reject);
    };
    const common = { method: options.method ?? 'GET', headers, agent: false as const };
    const req = https
      ? httpsRequest(target, { ...common, ca: options.ca, servername: options.servername, ...options.clientCertificate }, callback)
      : httpRequest(target, common, callback);
    req.on('error', reject);
    req.end(body);
  });
}

export interface TinyImage {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  manifestDigest: string;
}

export function tinyImage(seed: string, layerBytes = 4096): TinyImage {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = Buffer.alloc(layerBytes, seed);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  return { config, layer, manifest, manifestDigest: sha256(manifest) };
}

/** Pushes `image` as repo:tag with `send` (so over whatever TLS `options` set); throws on any unexpected status. */
export async function pushTiny(base: string, repo: string, tag: string, image: TinyImage, options: RequestOptions = {}): Promise<void> {
  for (const blob of [image.config, image.layer]) {
    const res = await send(`${base}/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { ...options, method: 'POST', body: blob, headers: { ...options.headers, 'Content-Type': 'application/octet-stream' } });
    if (res.status !== 201) throw new Error(`blob push: ${res.status} ${res.body}`);
  }
  const res = await send(`${base}/v2/${repo}/manifests/${tag}`, {
    ...options,
    method: 'PUT',
    body: image.manifest,
    headers: { ...options.headers, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status !== 201) throw new Error(`manifest push: ${res.status} ${res.body}`);
}

/** Pulls repo:tag and its layer; returns what came back. */
export async function pullTiny(base: string, repo: string, tag: string, image: TinyImage, options: RequestOptions = {}): Promise<{ manifest: Buffer; layer: Buffer }> {
  const manifest = await send(`${base}/v2/${repo}/manifests/${tag}`, { ...options, headers: { ...options.headers, Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (manifest.status !== 200) throw new Error(`manifest pull: ${manifest.status} ${manifest.body}`);
  const layer = await send(`${base}/v2/${repo}/blobs/${sha256(image.layer)}`, options);
  if (layer.status !== 200) throw new Error(`blob pull: ${layer.status}`);
  return { manifest: manifest.body, layer: layer.body };
}
