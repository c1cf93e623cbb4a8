/**
 * The benchmark's HTTP client: node:http over one keep-alive Agent per server, so no request
 * pays for a TCP handshake, and bodies sent from Buffers already in memory. Response bodies
 * are either collected (manifests, small JSON) or only counted (blobs), never hashed: the
 * client must stay cheaper than any server it measures.
 *
 * Given several base URLs (replicas of one registry on one store), it plays the load balancer
 * in front of them: every request goes to the next replica in turn, whichever replica an
 * absolute URL in it names (a Location from the previous answer), so an upload started on one
 * replica goes on on another.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, when collected. */
  body?: Buffer;
  /** Bytes received, always. */
  bytes: number;
}

export interface RequestOptions {
  method: string;
  /** Absolute URL or a path (resolved against the client's base URL). */
  url: string;
  headers?: Record<string, string | number>;
  body?: Buffer;
  /** Collect the body (default) or only count its bytes. */
  collect?: boolean;
}

/** What the client sends on every request: Basic credentials, or a bearer token it was handed. */
export type Credentials = { basic: { username: string; password: string } } | { bearer: string };

/** The Authorization header for `credentials`. */
export function authorizationOf(credentials: Credentials): string {
  if ('bearer' in credentials) return `Bearer ${credentials.bearer}`;
  const { username, password } = credentials.basic;
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class HttpClient {
  readonly agent: Agent;
  readonly baseUrl: string;
  /** Milliseconds per request, from sending to the last byte received, when asked for. */
  readonly latencies?: number[];
  private readonly authorization?: string;
  /** The replicas' origins ("http://127.0.0.1:PORT"), and whose turn is next. */
  private readonly origins: string[];
  private turn = 0;

  constructor(
    baseUrls: string | readonly string[],
    options: { maxSockets: number; credentials?: Credentials; recordLatencies?: boolean },
  ) {
    this.origins = (typeof baseUrls === 'string' ? [baseUrls] : [...baseUrls]).map((u) => new URL(u).origin);
    if (this.origins.length === 0) throw new Error('HttpClient needs at least one base URL');
    this.baseUrl = this.origins[0];
    if (options.recordLatencies) this.latencies = [];
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' });
    // Sent on every request, as registry clients do once they have seen the challenge (or,
    // with a token handed to them, from the first request on).
    if (options.credentials) this.authorization = authorizationOf(options.credentials);
  }

  resolve(url: string): URL {
    return new URL(url, this.baseUrl);
  }

  /** The URL this request goes to: with several replicas, the next one's. */
  private route(url: URL): URL {
    if (this.origins.length === 1 || !this.origins.includes(url.origin)) return url;
    const next = new URL(this.origins[this.turn++ % this.origins.length]);
    url.host = next.host;
    return url;
  }

  request(opts: RequestOptions): Promise<Response> {
    const url = this.route(this.resolve(opts.url));
    const headers: Record<string, string | number> = { ...opts.headers };
    if (this.authorization) headers.Authorization = this.authorization;
    if (opts.body) headers['Content-Length'] = opts.body.length;
    else if (opts.method === 'PUT' || opts.method === 'POST' || opts.method === 'PATCH') headers['Content-Length'] = 0;
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, method: opts.method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          const collect = opts.collect ?? true;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (collect) chunks.push(chunk);
          });
          res.on('end', () => {
            this.latencies?.push(performance.now() - t0);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: collect ? Buffer.concat(chunks) : undefined, bytes });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /** A request that must answer with `expected`; anything else is an error naming what came back. */
  async expect(expected: number, opts: RequestOptions): Promise<Response> {
    const res = await this.request(opts);
    if (res.status !== expected) {
      const detail = res.body ? res.body.toString('utf8', 0, Math.min(res.body.length, 300)) : `${res.bytes} bytes`;
      throw new HttpError(`${opts.method} ${opts.url}: expected ${expected}, got ${res.status}: ${detail}`, res.status);
    }
    return res;
  }

  close(): void {
    this.agent.destroy();
  }
}
