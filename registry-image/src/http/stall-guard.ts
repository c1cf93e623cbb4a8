/**
 * Frees the sockets of clients that stop moving (zot's http.readTimeout and http.writeTimeout,
 * read by perch as the longest a transfer may go without a byte, not as a bound on its whole
 * length: a multi-GiB push that keeps moving is never cut, however long it takes).
 *
 *   headers   a connection that has begun a request (or has sent nothing since it opened)
 *             without finishing its headers, with no byte for `readTimeout`;
 *   body      a request body the registry is reading, with no byte for `readTimeout`;
 *   response  bytes waiting for the client, none of them taken for `writeTimeout`.
 *
 * Between these the socket is the registry's own (reading storage, hashing, waiting on the GC
 * guard) and no clock runs: a slow disk never costs a client its request. A body the registry
 * has paused (storage behind) is not the client's stall either. A kept-alive connection idle
 * between requests is Node's keepAliveTimeout's business.
 *
 * Node's own headersTimeout would cover the first case, but in Node 24 it stops firing for
 * every connection once the server has answered one request with a body on a kept-alive
 * connection (seen here; the stalled-clients test shows it), so the guard does it.
 *
 * A sweep every quarter of the shorter timeout looks at each connection's byte counters, so
 * 500 stalled sockets cost one pass over 500 entries, not 500 timers. A freed socket ends the
 * request as a client that went away would: an upload keeps what was acknowledged before
 * (storage/fs-store.ts), and the client can resume.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface StallTimeouts {
  readTimeoutMs: number;
  writeTimeoutMs: number;
}

export type Stall = 'headers' | 'body' | 'response';

interface Connection {
  socket: Socket;
  /** The request being served, if any. */
  req?: IncomingMessage;
  /** bytesRead when the last request ended; -1 before the first (a connection that sends nothing counts). */
  readAtRest: number;
  bytesRead: number;
  bytesWritten: number;
  /** When the counters last moved, or the registry last held the socket. */
  movedMs: number;
}

/** What the client owes at this moment; undefined when nothing. */
function owed(c: Connection): Stall | undefined {
  const { req, socket } = c;
  if (socket.writableLength > 0) return 'response';
  if (!req) return socket.bytesRead !== c.readAtRest ? 'headers' : undefined;
  // Flowing, not complete: the registry wants body bytes and is not holding them back.
  if (!req.complete && req.readableFlowing === true) return 'body';
  return undefined;
}

export interface GuardOptions {
  /** The server's event for a new client socket: 'connection' (http), 'secureConnection' (https). */
  connectionEvent?: 'connection' | 'secureConnection';
  onStall?: (what: Stall, req: IncomingMessage | undefined) => void;
}

/** Starts watching `server` (an http or https server); returns a function that stops. */
export function guardStalls(server: EventEmitter, timeouts: StallTimeouts, options: GuardOptions = {}): () => void {
  const { readTimeoutMs, writeTimeoutMs } = timeouts;
  const connectionEvent = options.connectionEvent ?? 'connection';
  const connections = new Map<Socket, Connection>();
  const onConnection = (socket: Socket) => {
    connections.set(socket, { socket, readAtRest: -1, bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten, movedMs: Date.now() });
    socket.once('close', () => connections.delete(socket));
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const c = connections.get(req.socket);
    if (!c) return;
    c.req = req;
    res.once('close', () => {
      if (c.req !== req) return;
      c.req = undefined;
      c.readAtRest = c.socket.bytesRead;
      c.movedMs = Date.now();
    });
  };
  server.on(connectionEvent, onConnection);
  server.on('request', onRequest);
  const sweep = () => {
    const now = Date.now();
    for (const c of connections.values()) {
      const { socket } = c;
      const what = owed(c);
      if (what === undefined || socket.bytesRead !== c.bytesRead || socket.bytesWritten !== c.bytesWritten) {
        c.bytesRead = socket.bytesRead;
        c.bytesWritten = socket.bytesWritten;
        c.movedMs = now;
        continue;
      }
      if (now - c.movedMs < (what === 'response' ? writeTimeoutMs : readTimeoutMs)) continue;
      connections.delete(socket);
      options.onStall?.(what, c.req);
      socket.destroy();
    }
  };
  const timer = setInterval(sweep, Math.max(50, Math.min(readTimeoutMs, writeTimeoutMs) / 4));
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off(connectionEvent, onConnection);
    server.off('request', onRequest);
  };
}
