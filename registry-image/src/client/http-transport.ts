/**
 * The HTTP layer under the registry clients (the client library and `perch seed`): one
 * request, one response. Answers are buffered (registry answers are small JSON documents)
 * unless the request asks for a stream, which a blob download does; a request body is a
 * Buffer or a stream (a blob upload never sits whole in memory). node:http/https rather than
 * fetch, so that TLS options (an extra CA, or no verification with --insecure) apply to this
 * client alone, and so each request has its own idle time limit. Clients take a Transport, so
 * tests can hand them a fake.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import tls from 'node:tls';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A stream is sent with the Content-Length the caller sets, or chunked without one. */
  body?: Buffer | Readable;
  /** Idle limit: no byte either way for this long ends the request. */
  timeoutMs: number;
  /** Hand a 2xx answer's body over as `stream` instead of reading it (blob downloads). */
  stream?: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (WWW-Authenticate keeps its own commas). */
  headers: Record<string, string>;
  /** Empty when `stream` is set. */
  body: Buffer;
  /** The body, unread: only for a 2xx answer to a request with `stream: true`. */
  stream?: Readable;
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** A request that got no HTTP answer: refused, reset, unresolvable, timed out, bad TLS. */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly code: string | undefined,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'ConnectionError';
  }
}

/** Buffered responses larger than this are cut off: no manifest or error body comes near it. */
const MAX_BODY = 4 * 1024 * 1024;

export interface NodeTransportOptions {
  /** Accept TLS certificates that do not verify (--insecure). */
  insecureTls: boolean;
  /** CA certificates (PEM) to trust for https, besides Node's own (and NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Default "perch-seed". */
  userAgent?: string;
}

export function nodeTransport(options: NodeTransportOptions): Transport & { close(): void } {
  const httpAgent = new http.Agent({ keepAlive: true });
  // An explicit `ca` replaces Node's list, so the bundled roots go along with it.
  const ca = options.ca === undefined ? undefined : [...tls.rootCertificates, ...(Array.isArray(options.ca) ? options.ca : [options.ca])];
  const httpsAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: !options.insecureTls, ...(ca ? { ca } : {}) });
  const send: Transport = (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const isHttps = url.protocol === 'https:';
      const headers: Record<string, string> = { 'User-Agent': options.userAgent ?? 'perch-seed', ...request.headers };
      if (Buffer.isBuffer(request.body)) headers['Content-Length'] = String(request.body.length);
      else if (request.body) {
        // A stream: the caller's Content-Length, or chunked transfer encoding.
      } else if (request.method === 'POST' || request.method === 'PUT') headers['Content-Length'] = '0';
      const req = (isHttps ? https : http).request(url, {
        method: request.method,
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      let settled = false;
      let streaming: Readable | undefined;
      const fail = (reason: string, code?: string) => {
        if (streaming) {
          // Already handed over: the reader of the stream hears of it.
          streaming.destroy(new ConnectionError(request.url, reason, code));
          return;
        }
        if (settled) return;
        settled = true;
        req.destroy();
        reject(new ConnectionError(request.url, reason, code));
      };
      req.setTimeout(request.timeoutMs, () => fail(`no answer within ${request.timeoutMs} ms`, 'ETIMEDOUT'));
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.message, err.code));
      req.on('response', (res) => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const status = res.statusCode ?? 0;
        if (request.stream && status >= 200 && status < 300 && request.method !== 'HEAD') {
          settled = true;
          streaming = res;
          res.on('error', () => undefined); // the reader gets it through the stream
          resolve({ status, headers: out, body: Buffer.alloc(0), stream: res });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        res.on('error', (err: NodeJS.ErrnoException) => fail(err.message, err.code));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status, headers: out, body: Buffer.concat(chunks) });
        });
      });
      if (request.body && !Buffer.isBuffer(request.body)) {
        const source = request.body;
        source.on('error', (err: NodeJS.ErrnoException) => fail(`reading the request body: ${err.message}`, err.code ?? 'EBODY'));
        source.pipe(req);
      } else {
        req.end(request.body);
      }
    });
  return Object.assign(send, {
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}
