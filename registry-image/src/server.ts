/**
 * The registry as an HTTP request handler: match the route, authenticate, check access, run
 * the handler, and turn whatever it throws into one OCI error response.
 * `createRegistry` builds it from parts (tests inject a MemoryStore or a fake Auth);
 * `startRegistry` listens, on a store its caller has opened (cli/serve.ts), so a failure here
 * is a listening failure.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Auth, Identity } from './auth/types';
import type { PerchConfig, PolicyAction } from './config/types';
import { RegistryError } from './http/errors';
import type { RegistryParts, RequestContext } from './http/context';
import type { RegistryHooks, TlsServing } from './http/hooks';
import { API_VERSION_HEADER, defaultHeaders, pathOf, queryOf, refuseConnect, RegistryResponse, writeClientError, writeError, type DefaultHeaders } from './http/respond';
import { matchRoute, TOKEN_ROUTE } from './http/routes';
import { guardStalls } from './http/stall-guard';
import type { Logger } from './log';
import type { Store } from './storage/types';

export interface Registry {
  handle(req: IncomingMessage, res: ServerResponse): void;
  parts: RegistryParts;
}

function decodePath(req: IncomingMessage): string {
  const raw = pathOf(req);
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a malformed escape: matches no route, or fails name validation
  }
}

/**
 * Access 'create-or-update' (http/routes.ts): let the caller through if either is allowed; the
 * handler then checks the one the request needs. A caller allowed neither gets what a 'create'
 * route answers (DENIED, or 401 with the challenge), unless only the update refusal is one the
 * client can act on: a user allowed update whose token lacks push gets the 401
 * insufficient_scope that makes docker, helm and oras fetch a token with push.
 */
function authorizeCreateOrUpdate(auth: Auth, identity: Identity, repository: string): void {
  try {
    auth.authorize(identity, repository, 'create');
  } catch (createRefusal) {
    try {
      auth.authorize(identity, repository, 'update');
    } catch (updateRefusal) {
      const actionable = (err: unknown) => err instanceof RegistryError && err.status === 401;
      throw !actionable(createRefusal) && actionable(updateRefusal) ? updateRefusal : createRefusal;
    }
  }
}

/** `hooks` (http/hooks.ts): extra routes, request observers, a rate limiter, response headers, the manifest gate. */
export function createRegistry(given: RegistryParts, hooks: RegistryHooks = {}): Registry {
  const parts: RegistryParts = hooks.manifestGate ? { ...given, manifestGate: hooks.manifestGate } : given;
  const { auth, log } = parts;
  const observers = hooks.observers ?? [];

  // Headers every response carries; with the hook's (security headers), merged once per set.
  const base: Readonly<Record<string, string>> = Object.freeze({
    [API_VERSION_HEADER[0]]: API_VERSION_HEADER[1],
    // Registry answers are data, never pages: browsers must not sniff them into HTML.
    'X-Content-Type-Options': 'nosniff',
  });
  const plain = defaultHeaders(base);
  const merged = new WeakMap<object, DefaultHeaders>();
  function defaultsFor(req: IncomingMessage): DefaultHeaders {
    const extra = hooks.headers?.(req);
    if (!extra) return plain;
    let all = merged.get(extra);
    if (!all) merged.set(extra, (all = defaultHeaders({ ...base, ...extra })));
    return all;
  }

  /** What the access log says of a request; filled in as the request is understood. */
  interface RequestRecord {
    route: string;
    user: string | null;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, record: RequestRecord): Promise<void> {
    const defaults = defaultsFor(req);
    if (res instanceof RegistryResponse) res.defaultHeaders = defaults;
    else for (const name in defaults.headers) res.setHeader(name, defaults.headers[name]); // a server made without RegistryResponse
    const path = decodePath(req);
    const match = matchRoute(path, hooks.routes);
    if (match) record.route = match.route.name;
    // Before authentication, so a flood costs no password checks.
    hooks.limiter?.admit(req, record.route);
    if (!match) throw new RegistryError('NOT_FOUND', `no route for ${req.method} ${pathOf(req)}`);
    const { route, params } = match;
    if (route.name === TOKEN_ROUTE) {
      if (req.method !== 'GET' && req.method !== 'POST') throw new RegistryError('METHOD_NOT_ALLOWED');
      await auth.handleToken(req, res);
      return;
    }
    // HEAD is GET without a body (the handlers check req.method where it matters).
    const method = route.methods[req.method === 'HEAD' ? 'GET' : (req.method ?? '')];
    if (!method) throw new RegistryError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${pathOf(req)}`);
    let identity: Identity = { username: null, groups: [] };
    if (method.access !== 'none') {
      identity = await auth.authenticate(req);
      record.user = identity.username;
      if (method.access === 'authenticated') auth.authorize(identity, undefined, 'read');
      else if (method.access === 'create-or-update') authorizeCreateOrUpdate(auth, identity, params.name);
      else auth.authorize(identity, params.name, method.access);
    }
    const ctx: RequestContext = {
      req,
      res,
      query: queryOf(req),
      params,
      identity,
      parts,
      allow: (action: PolicyAction, repository?: string) => auth.authorize(identity, repository ?? params.name, action),
    };
    await method.handler(ctx);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    // The socket's counter runs across every request of a kept-alive connection.
    const bytesBefore = req.socket?.bytesRead ?? 0;
    const record: RequestRecord = { route: 'unknown', user: null };
    if (observers.length) {
      for (const observer of observers) observer.requestStarted?.(req);
      // 'close' comes once per response, also when the client left before it was complete.
      res.once('close', () => {
        const event = {
          req,
          res,
          method: req.method ?? '',
          route: record.route,
          status: res.statusCode,
          durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
          completed: res.writableFinished,
        };
        for (const observer of observers) observer.requestFinished(event);
      });
    }
    dispatch(req, res, record)
      .catch((err) => {
        // An error answer is about this moment (a missing tag may be pushed next): never cache it.
        if (!res.headersSent) res.setHeader('Cache-Control', 'no-store');
        // The browse UI with OpenID sign-in marks its requests (zot's X-ZOT-API-CLIENT): a 401
        // without a challenge lets the page offer the provider instead of the browser's password dialog.
        if (err instanceof RegistryError && err.status === 401 && req.headers['x-zot-api-client'] === 'zot-ui') delete err.headers['WWW-Authenticate'];
        writeError(req, res, err, log);
      })
      .finally(() => {
        if (!log.enabled('info')) return;
        const finish = () =>
          log.info('request', {
            method: req.method,
            path: pathOf(req),
            route: record.route,
            status: res.statusCode,
            bytesIn: (req.socket?.bytesRead ?? bytesBefore) - bytesBefore,
            duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
            user: record.user,
          });
        if (res.writableFinished) finish();
        else res.once('finish', finish);
      });
  }

  return { handle, parts };
}

export interface StartedRegistry {
  server: Server<typeof IncomingMessage, typeof RegistryResponse>;
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

export interface StartDeps {
  store: Store;
  auth: Auth;
  log: Logger;
  hooks?: RegistryHooks;
  /** Serve HTTPS with this (tls/index.ts); plain HTTP without. */
  tls?: TlsServing;
}

/** Starts listening on config.http.address:port and logs "listening"; `deps.store` is already open (Store.init). */
export async function startRegistry(config: PerchConfig, deps: StartDeps): Promise<StartedRegistry> {
  const { hooks, tls, ...parts } = deps;
  const registry = createRegistry({ config, ...parts }, hooks);
  const { readTimeoutMs, writeTimeoutMs } = config.http;
  const options = {
    keepAliveTimeout: 65_000,
    // No bound on a whole request (a big push takes as long as it takes); stalls are
    // http/stall-guard.ts's. Node's headersTimeout, where it works, answers them 408 first.
    requestTimeout: 0,
    headersTimeout: readTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, readTimeoutMs / 4)),
    ServerResponse: RegistryResponse,
  };
  const server = tls ? createHttpsServer({ ...options, ...tls.options }, registry.handle) : createServer(options, registry.handle);
  const stopTls = tls?.attach?.(server as HttpsServer<typeof IncomingMessage, typeof RegistryResponse>);
  // What Node's parser refuses before any route runs gets an OCI error body too.
  server.on('clientError', writeClientError);
  server.on('connect', refuseConnect);
  const waitingFor = { headers: 'request headers', body: 'request body', response: 'client to read the response' } as const;
  const stopGuard = guardStalls(server, { readTimeoutMs, writeTimeoutMs }, {
    connectionEvent: tls ? 'secureConnection' : 'connection',
    onStall: (what, req) =>
      deps.log.info('stalled client disconnected', {
        ...(req ? { method: req.method, path: pathOf(req) } : {}),
        waitingFor: waitingFor[what],
        timeoutMs: what === 'response' ? writeTimeoutMs : readTimeoutMs,
      }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deps.log.always('listening', { address: config.http.address, port });
  return {
    server,
    port,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        deps.auth.close();
        stopTls?.();
        stopGuard();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
