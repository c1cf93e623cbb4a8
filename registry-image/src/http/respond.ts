/**
 * Writing responses: the headers every response carries, JSON bodies, and the one place
 * where an error becomes an HTTP answer.
 */
import { ServerResponse, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Logger } from '../log';
import { isNoSpace, StorageError } from '../storage/types';
import { RegistryError, type ErrorName } from './errors';

/** Distribution spec: clients check this header on /v2/ to know they talk to a registry. */
export const API_VERSION_HEADER = ['Docker-Distribution-API-Version', 'registry/2.0'] as const;

/** Headers every response carries, with their names in lower case for the override check. */
export interface DefaultHeaders {
  readonly headers: Readonly<Record<string, string>>;
  readonly lowerNames: ReadonlySet<string>;
}

export function defaultHeaders(headers: Readonly<Record<string, string>>): DefaultHeaders {
  return { headers, lowerNames: new Set(Object.keys(headers).map((name) => name.toLowerCase())) };
}

/**
 * The server's response class (startRegistry passes it to createServer): it adds
 * `defaultHeaders` (the API version, security headers; set per request by the server) to its
 * headers unless the handler sets its own value for one, in any letter case. They are merged
 * into the handler's own writeHead, explicit or implicit, instead of being set up front with
 * setHeader: a response whose headers all arrive in one writeHead takes Node's fast path,
 * without the per-header bookkeeping setHeader costs (a tenth of a small push's header work).
 */
export class RegistryResponse extends ServerResponse {
  defaultHeaders: DefaultHeaders | undefined = undefined;

  override writeHead(status: number, second?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], third?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const message = typeof second === 'string' ? second : undefined;
    const given = typeof second === 'string' ? third : second;
    const defaults = this.defaultHeaders;
    if (defaults !== undefined) {
      if (!Array.isArray(given) && this.getHeaderNames().length === 0 && !overridesAny(given, defaults.lowerNames)) {
        // The usual answer: nothing set before, nothing to override.
        const headers = given ? { ...given, ...defaults.headers } : { ...defaults.headers };
        return message === undefined ? super.writeHead(status, headers) : super.writeHead(status, message, headers);
      }
      const taken = new Set(this.getHeaderNames());
      if (Array.isArray(given)) for (let i = 0; i < given.length; i += 2) taken.add(String(given[i]).toLowerCase());
      else if (given) for (const name in given) taken.add(name.toLowerCase());
      for (const name in defaults.headers) if (!taken.has(name.toLowerCase())) this.setHeader(name, defaults.headers[name]);
    }
    return message === undefined ? super.writeHead(status, given) : super.writeHead(status, message, given);
  }
}

function overridesAny(given: OutgoingHttpHeaders | undefined, lowerNames: ReadonlySet<string>): boolean {
  if (given) for (const name in given) if (lowerNames.has(name.toLowerCase())) return true;
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}, contentType = 'application/json'): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

/**
 * Streams `body` as the response, whose headers are written. Stops reading (and releases the
 * file) if the client leaves early; a read error cuts the response off and rejects.
 * (stream.pipeline does the same with more set-up per call than a small blob costs to send.)
 */
export function sendStream(res: ServerResponse, body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    body.once('error', (err) => {
      res.destroy(err);
      reject(err);
    });
    res.once('close', () => {
      if (!res.writableFinished) body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** Storage speaks its own language; this is where it is translated to OCI errors. */
export function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof StorageError) {
    switch (err.kind) {
      case 'NotFound':
        return new RegistryError('BLOB_UNKNOWN', err.message);
      case 'UploadNotFound':
        return new RegistryError('BLOB_UPLOAD_UNKNOWN', err.message);
      case 'DigestMismatch':
        return new RegistryError('DIGEST_INVALID', err.message);
      case 'SizeMismatch':
        return new RegistryError('SIZE_INVALID', err.message);
      case 'RangeMismatch':
      case 'RangeNotSatisfiable':
        return new RegistryError('RANGE_INVALID', err.message);
      case 'QuotaExceeded':
        return new RegistryError('QUOTA_EXCEEDED', err.message);
      case 'NoSpace':
        return new RegistryError('STORAGE_FULL');
    }
  }
  // A full disk reaches here as the system error too (ENOSPC from an upload's write stream).
  if (isNoSpace(err)) return new RegistryError('STORAGE_FULL');
  return new RegistryError('INTERNAL');
}

export function writeError(req: IncomingMessage, res: ServerResponse, err: unknown, log: Logger): void {
  const error = toRegistryError(err);
  // A handler that translated an error itself keeps the original as its cause: that is what failed.
  const failed = err instanceof RegistryError && err.cause !== undefined ? err.cause : err;
  if (error.status >= 500) log.error('request failed', { method: req.method, path: pathOf(req), error: String((failed as Error)?.stack ?? failed) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A HEAD answer carries the status and headers but no body (RFC 9110).
  const body = req.method === 'HEAD' ? undefined : Buffer.from(JSON.stringify(error.toJSON()));
  res.writeHead(error.status, { ...error.headers, 'Content-Type': 'application/json', 'Content-Length': body?.length ?? 0 });
  res.end(body);
  // The request body may still be arriving (a refused upload): do not keep reading it.
  if (!req.complete) req.resume();
}

/** Node's HTTP parser errors (llhttp's HPE_* codes, and Node's own) that have an answer of their own. */
const CLIENT_ERRORS: Readonly<Record<string, ErrorName>> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HPE_INVALID_CONTENT_LENGTH: 'REQUEST_LENGTH_INVALID',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'REQUEST_LENGTH_INVALID',
  HPE_INVALID_TRANSFER_ENCODING: 'REQUEST_LENGTH_INVALID',
  HPE_INVALID_CHUNK_SIZE: 'REQUEST_LENGTH_INVALID',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'REQUEST_LENGTH_INVALID',
  HPE_INVALID_EOF_STATE: 'REQUEST_LENGTH_INVALID',
};

/**
 * The server's 'clientError' listener. A request Node's parser refuses (a Content-Length that
 * is not a number or is given twice, a body cut short of its Content-Length, broken chunked
 * encoding, a request line past the header limit, a method no parser knows, headers that
 * stopped arriving) never reaches a route, and Node's own answer is a bare status line. This
 * answers it as every refusal is answered, with an OCI error body. Like Node's default it
 * writes only while no response on the connection has begun (`_httpMessage` is the response in
 * flight, the field Node's own handler checks), then closes the connection: nothing that
 * follows on it can be trusted.
 */
export function writeClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) writeOnSocket(socket, new RegistryError(CLIENT_ERRORS[err.code ?? ''] ?? 'REQUEST_MALFORMED'), inFlight?.req?.method === 'HEAD');
  socket.destroy();
}

/**
 * The server's 'connect' listener. A CONNECT request (a proxy tunnel) never reaches the route
 * table: Node hands it to this event and, with no listener, closes the connection without a
 * word. No route allows it, so it gets what any method a route does not allow gets: 405.
 */
export function refuseConnect(req: IncomingMessage, socket: Duplex): void {
  if (socket.writable) writeOnSocket(socket, new RegistryError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.url}`), false);
  socket.destroy();
}

/** An error answer written straight on a socket that has no response object; the connection closes after it. */
function writeOnSocket(socket: Duplex, error: RegistryError, head: boolean): void {
  const body = head ? '' : JSON.stringify(error.toJSON());
  socket.write(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n${API_VERSION_HEADER[0]}: ${API_VERSION_HEADER[1]}\r\nX-Content-Type-Options: nosniff\r\n` +
      `Cache-Control: no-store\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The request's query parameters (empty without a query string). */
export function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

/** The path without the query string, for logs (never the query: it may carry a digest only, but keep it uniform). */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
