/**
 * One HTTP/1.1 request written byte for byte on a fresh TCP connection, and the answer read back.
 *
 * fetch() and http.request() normalise or refuse what the hostile-input suite must send: `..`
 * segments are resolved, percent escapes re-encoded, a Content-Length that is not a number or a
 * body shorter than its Content-Length cannot be written. Here the request line, every header
 * and the body are exactly what the caller gives. The connection is kept alive, as registry
 * clients keep it: a server that answers before reading a whole body (a 413 on its declared
 * length) then reads the rest and throws it away, where after `Connection: close` it would
 * close at once and the client, still sending, could get a reset instead of the answer. The
 * body goes in pieces, and stops once an answer arrives.
 */
import { once } from 'node:events';
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent as is on the request line: no encoding, no normalising. */
  path: string;
  /** In order; a name may repeat. Host is added unless given. */
  headers?: Array<[string, string]>;
  /** Written right after the headers; nothing is added (no Content-Length unless in headers). */
  body?: Buffer;
  /** Half-close the connection after the body (a client that stops sending early). */
  endAfterBody?: boolean;
}

export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
  /** The raw bytes of everything the server sent. */
  raw: Buffer;
}

const TIMEOUT_MS = 20_000;
const PIECE = 64 * 1024;

/** Sends `request` to host:port and resolves with the first response on the connection. */
export function rawRequest(port: number, request: RawRequest, host = '127.0.0.1'): Promise<RawResponse> {
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has('host')) headers.unshift(['Host', `${host}:${port}`]);
  const head = `${request.method} ${request.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      const parsed = parseResponse(raw, request.method === 'HEAD', true);
      if (parsed) resolve(parsed);
      else reject(new Error(`no complete HTTP response to ${request.method} ${request.path.slice(0, 200)} (${err ? err.message : 'connection closed'}); received ${JSON.stringify(raw.toString('latin1').slice(0, 500))}`));
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A complete response is enough: the server may keep reading a body it has refused.
      if (parseResponse(Buffer.concat(chunks), request.method === 'HEAD', false)) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // A server that answers before reading the whole body and closes may reset the connection
    // while it is written: what it sent before still counts.
    socket.on('error', (err) => finish(err));
    socket.on('connect', async () => {
      socket.write(head, 'latin1');
      const body = request.body ?? Buffer.alloc(0);
      for (let at = 0; at < body.length && !settled && chunks.length === 0; at += PIECE) {
        if (!socket.write(body.subarray(at, at + PIECE))) await Promise.race([once(socket, 'drain'), once(socket, 'close')]).catch(() => {});
      }
      if (request.endAfterBody && !settled) socket.end();
    });
  });
}

/**
 * The first complete response in `raw`, or undefined while it is incomplete. `closed`: the
 * connection has ended, so a body without a length (Node's own 400 for an unparsable request)
 * is complete.
 */
export function parseResponse(raw: Buffer, headRequest: boolean, closed: boolean): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(m[1]);
  const rest = raw.subarray(end + 4);
  let body: Buffer;
  if (headRequest || status === 204 || status === 304) body = Buffer.alloc(0);
  else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (rest.length < length) return undefined;
    body = rest.subarray(0, length);
  } else if (headers['transfer-encoding']?.includes('chunked')) {
    const decoded = dechunk(rest);
    if (!decoded) return undefined;
    body = decoded;
  } else {
    // Neither: the body runs to the end of the connection.
    if (!closed) return undefined;
    body = rest;
  }
  return { status, headers, body, raw };
}

function dechunk(data: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    at = lineEnd + 2;
    if (size === 0) return Buffer.concat(out);
    if (data.length < at + size + 2) return undefined;
    out.push(data.subarray(at, at + size));
    at += size + 2;
  }
}
