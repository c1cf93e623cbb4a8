/**
 * The S3 listener: for each request, find the bucket and key (path style, or virtual-host
 * style under perch.s3api.domain), verify the SigV4 signature, map the access key to its
 * registry user, pick the operation (router.ts), run it, and write whatever it threw as S3's
 * XML error. One line per request goes to the log, as the registry's own requests do.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AccessPolicy } from '../auth/policy';
import { ANONYMOUS, type Identity } from '../auth/types';
import { loginConfigured } from '../config/read-auth';
import type { TlsServing } from '../http/hooks';
import { S3Error, toS3Error } from './errors';
import type { S3Credential } from './credentials';
import type { S3Parts } from './parts';
import type { S3Request } from './request';
import { route } from './router';
import { SigV4Verifier } from './sigv4';
import { parseQuery, percentDecodeToBytes } from './sigv4/uri-encoding';
import { el, escapeXml } from './xml';

interface Target {
  bucket: string;
  key: string;
  query: Map<string, string>;
}

/** Bucket and key from the Host (virtual-host style) or the path (path style). */
export function targetOf(req: IncomingMessage, domain: string | undefined): Target {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = new Map(parseQuery(q < 0 ? '' : url.slice(q + 1)).map((p) => [p.decodedName, p.decodedValue] as const));
  const path = percentDecodeToBytes(rawPath).toString('utf8');
  if (domain !== undefined) {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (host.endsWith(`.${domain}`)) return { bucket: host.slice(0, -domain.length - 1), key: path.replace(/^\//, ''), query };
  }
  const rest = path.replace(/^\//, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '', query } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1), query };
}

function writeS3Error(req: IncomingMessage, res: ServerResponse, error: S3Error, resource: string, requestId: string): void {
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  // A body the operation never read (a refused upload) is drained, so the connection stays usable.
  if (!req.complete) req.resume();
  if (error.code === 'NotModified') {
    res.writeHead(304, error.headers);
    res.end();
    return;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${el('Code', error.code)}<Message>${escapeXml(error.message)}</Message>${el('Resource', resource)}${el('RequestId', requestId)}</Error>`;
  const bytes = Buffer.from(body);
  res.writeHead(error.status, { ...error.headers, 'Content-Type': 'application/xml', 'Content-Length': req.method === 'HEAD' ? 0 : bytes.length });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

export interface S3Server {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(parts: S3Parts, credentials: Map<string, S3Credential>, tls: TlsServing | undefined): Promise<S3Server> {
  const { s3, log, config } = parts;
  const verifier = new SigV4Verifier({ lookupSecret: (key) => credentials.get(key)?.secret, region: s3.region });
  // Groups come from http.accessControl, as for the user's OCI requests (auth/registry-auth.ts).
  const policy = new AccessPolicy(config.http.accessControl, loginConfigured(config.http.auth));

  async function dispatch(req: IncomingMessage, res: ServerResponse, record: { op: string; user: string | null }): Promise<void> {
    const target = targetOf(req, s3.domain);
    const verified = await verifier.verify(req);
    let identity: Identity = ANONYMOUS;
    if (verified.auth !== 'anonymous') {
      const user = credentials.get(verified.accessKey)!.user;
      identity = { username: user, groups: policy.groupsOf(user), login: { method: 's3', groups: [] } };
    }
    record.user = identity.username;
    const { name, op } = route(req.method ?? 'GET', target.bucket, target.key, target.query, req.headers['x-amz-copy-source'] !== undefined);
    record.op = name;
    const r: S3Request = { req, res, parts, verified, identity, bucket: target.bucket, key: target.key, query: target.query, requestId: '' };
    await op(r);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('Server', 'perch');
    const record = { op: 'unknown', user: null as string | null };
    dispatch(req, res, record)
      .catch((err: unknown) => {
        const error = toS3Error(err);
        if (error.status >= 500) log.error('s3 request failed', { method: req.method, path: (req.url ?? '').split('?')[0], error: String((err as Error)?.stack ?? err) });
        else log.info('s3 request refused', { op: record.op, code: error.code, message: error.message });
        writeS3Error(req, res, error, (req.url ?? '/').split('?')[0]!, requestId);
      })
      .finally(() => {
        const finish = () =>
          log.info('s3 request', {
            method: req.method,
            path: (req.url ?? '').split('?')[0],
            op: record.op,
            status: res.statusCode,
            user: record.user,
            duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
          });
        if (res.writableFinished) finish();
        else res.once('finish', finish);
      });
  }

  const options = { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: config.http.readTimeoutMs };
  const server: Server = tls ? (createHttpsServer({ ...options, ...tls.options }, handle) as unknown as Server) : createServer(options, handle);
  const stopTls = tls?.attach?.(server as unknown as HttpsServer);
  const address = s3.address ?? config.http.address;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(s3.port, address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.always('s3api listening', { address, port, region: s3.region, ...(s3.domain ? { domain: s3.domain } : {}), tls: tls !== undefined });
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        stopTls?.();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
