/**
 * What `perch serve` can add around the registry core without the core knowing about it:
 * extra routes (the metrics path, the health report), observers told about every request
 * (metrics), a rate limiter, headers for every response, a check before a manifest is served
 * (the signature pull policy), and TLS. All optional: a registry
 * built with none of them (the in-process tests) behaves exactly as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer, ServerOptions as HttpsServerOptions } from 'node:https';
import type { ManifestGate } from './context';
import type { Route } from './routes';

/** A request whose response is over (sent, or the connection closed first). */
export interface RequestEvent {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The route table's name for it ("manifest", "blob", ...), or "unknown": never the raw path. */
  route: string;
  status: number;
  durationSeconds: number;
  /** False when the client went away before the response was complete. */
  completed: boolean;
}

export interface RequestObserver {
  requestStarted?(req: IncomingMessage): void;
  requestFinished(event: RequestEvent): void;
}

export interface RequestLimiter {
  /** Throws RegistryError TOO_MANY_REQUESTS (with Retry-After) to refuse; runs before authentication. */
  admit(req: IncomingMessage, route: string): void;
}

/** What TlsServing.attach needs of the HTTPS server, whatever its request and response classes. */
export type TlsServer = Pick<HttpsServer, 'setSecureContext'> & NodeJS.EventEmitter;

/** HTTPS: what https.createServer needs, and what to do once the server exists (reload on change). */
export interface TlsServing {
  options: HttpsServerOptions;
  /** Starts whatever keeps the certificate current; returns its stop function. */
  attach?(server: TlsServer): () => void;
}

export interface RegistryHooks {
  /** Tried before the route table (http/routes.ts). */
  routes?: readonly Route[];
  observers?: readonly RequestObserver[];
  limiter?: RequestLimiter;
  /**
   * Headers for every response (security headers); a handler may still override them. Return
   * the same object for the same headers: the server merges each object with its own once.
   */
  headers?: (req: IncomingMessage) => Readonly<Record<string, string>>;
  /** Asked before a manifest GET/HEAD is answered (http/context.ts ManifestGate): the trust extension's pull policy. */
  manifestGate?: ManifestGate;
}
