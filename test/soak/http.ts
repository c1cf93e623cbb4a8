/**
 * The soak's HTTP client: node:http over a keep-alive Agent per identity (anonymous, each
 * user), like a registry client that has seen the challenge and now sends its credentials on
 * every request. Every request counts toward the run's request budget, has a timeout (a hung
 * server is an error the report names, never a soak that waits forever) and collects its body
 * so the workload can check digests.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method: string;
  /** Absolute URL or a path (resolved against the base URL). */
  url: string;
  headers?: Record<string, string | number>;
  body?: Buffer;
}

/** Counts every request of a run, whichever client sent it. */
export class RequestCounter {
  count = 0;
}

/** Longest a single request may take before the workload calls it an error. */
export const REQUEST_TIMEOUT_MS = 60_000;

export class SoakClient {
  private agent: Agent;
  private readonly authorization?: string;

  constructor(
    readonly baseUrl: string,
    readonly who: string,
    private readonly counter: RequestCounter,
    private readonly maxSockets: number,
    credentials?: { username: string; password: string },
  ) {
    this.agent = this.newAgent();
    if (credentials) this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }

  private newAgent(): Agent {
    return new Agent({ keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets });
  }

  resolve(url: string): URL {
    return new URL(url, this.baseUrl);
  }

  request(opts: RequestOptions): Promise<Reply> {
    const url = this.resolve(opts.url);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (this.authorization && headers.Authorization === undefined) headers.Authorization = this.authorization;
    if (opts.body) headers['Content-Length'] = opts.body.length;
    else if (opts.method === 'PUT' || opts.method === 'POST' || opts.method === 'PATCH') headers['Content-Length'] = 0;
    this.counter.count++;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, method: opts.method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${opts.method} ${url.pathname}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /**
   * Closes every kept-alive connection (the next request opens a new one), so a sample of the
   * server's open descriptors taken afterwards counts no socket of ours.
   */
  closeIdle(): void {
    this.agent.destroy();
    this.agent = this.newAgent();
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The first OCI error code of an error body, e.g. "MANIFEST_UNKNOWN". */
export function errorCode(reply: Reply): string | undefined {
  try {
    return (JSON.parse(reply.body.toString('utf8')) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
