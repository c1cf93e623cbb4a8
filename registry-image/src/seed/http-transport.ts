/**
 * The HTTP layer under the seed client: one request, one buffered response (registry answers
 * to a push are small JSON documents). node:http/https rather than fetch, so that --insecure
 * can accept an unverifiable certificate for this client alone, and so each request has its
 * own time limit. The client takes a Transport, so tests can hand it a fake.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (WWW-Authenticate keeps its own commas). */
  headers: Record<string, string>;
  body: Buffer;
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

/** Responses larger than this are cut off: nothing the seed client reads comes near it. */
const MAX_BODY = 4 * 1024 * 1024;

export interface NodeTransportOptions {
  /** Accept TLS certificates that do not verify (--insecure). */
  insecureTls: boolean;
}

export function nodeTransport(options: NodeTransportOptions): Transport & { close(): void } {
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: !options.insecureTls });
  const send: Transport = (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const isHttps = url.protocol === 'https:';
      const headers: Record<string, string> = { 'User-Agent': 'perch-seed', ...request.headers };
      if (request.body) headers['Content-Length'] = String(request.body.length);
      else if (request.method === 'POST' || request.method === 'PUT') headers['Content-Length'] = '0';
      const req = (isHttps ? https : http).request(url, {
        method: request.method,
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      let settled = false;
      const fail = (reason: string, code?: string) => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(new ConnectionError(request.url, reason, code));
      };
      req.setTimeout(request.timeoutMs, () => fail(`no answer within ${request.timeoutMs} ms`, 'ETIMEDOUT'));
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.message, err.code));
      req.on('response', (res) => {
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
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
        });
      });
      req.end(request.body);
    });
  return Object.assign(send, {
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}
