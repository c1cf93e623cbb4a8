/**
 * A real OpenID Connect provider for the tests (npm `oidc-provider`, the certified
 * implementation), on a loopback port, set up the way a Keycloak realm for a registry is:
 *
 * - a confidential client "perch" (client secret; redirect URIs `<registry>/zot/auth/callback/<provider>`)
 *   for people signing in, and a workload client that gets tokens by client_credentials;
 * - users with passwords and groups (alice in "developers", bob in "readers"), whose ID and
 *   access tokens carry `preferred_username`, `email` and a `groups` claim;
 * - access tokens as JWTs (RFC 9068) through resource indicators, each client with a default
 *   resource, so `aud` is set: "perch" for the perch client, "zot" for the workload client, and
 *   a third resource whose audience is some other service (for the wrong-audience case);
 * - RS256 keys the test can rotate: add a new current key, keeping the old one published or not;
 * - a login page that is a plain HTML form (inputs `login` and `password`) and a consent page
 *   with one button, so a browser (the UI tests' Chromium) and `signIn` below (fetch, with a
 *   cookie jar and PKCE) walk the same authorization-code flow.
 *
 * oidc-provider fixes its keys and clients when built, so rotation and new redirect URIs build a
 * new Provider behind the same server and issuer (grants and sessions live in this instance's
 * own adapter, so they survive that).
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { errors as oidcErrors, type Configuration, type JWK } from 'oidc-provider';

export interface OidcUser {
  username: string;
  password: string;
  /** Stable subject, as Keycloak's user id (not the user name). */
  sub: string;
  email: string;
  groups: string[];
}

export interface OidcTokens {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  expiresIn: number;
}

export interface OidcProviderOptions {
  /** Redirect URIs of the perch client (also settable later with setRedirectUris). */
  redirectUris?: string[];
  /** Seconds an access token lives; default 300 (also settable with setAccessTokenTtl). */
  accessTokenTtlSeconds?: number;
  /** Fixed port (to restart on the same issuer); default an ephemeral one. */
  port?: number;
  /** Client id of the workload client; default a Kubernetes-style service account name. */
  workloadClientId?: string;
  /** Serve HTTPS with this PEM key and certificate (for 127.0.0.1); the issuer is then https://. */
  tls?: { key: string; cert: string };
  /** With tls: the CA that signed `cert`, trusted by this helper's own requests (signIn, clientCredentials). */
  ca?: string;
}

export interface RunningOidcProvider {
  /** The issuer, e.g. http://127.0.0.1:41234 (also the base URL). */
  issuer: string;
  url: string;
  port: number;
  clientId: string;
  clientSecret: string;
  workload: { clientId: string; clientSecret: string };
  users: Record<'alice' | 'bob', OidcUser>;
  /** Audiences of the resources: the perch client's default, the workload's, and another service's. */
  audiences: { perch: string; workload: string; other: string };
  resources: { perch: string; workload: string; other: string };
  /** The redirect URI zot and perch use for a provider id: `<registry>/zot/auth/callback/<id>`. */
  callbackUrl(registryUrl: string, providerId: string): string;
  setRedirectUris(uris: string[]): void;
  setAccessTokenTtl(seconds: number): void;
  /** Headless sign-in through the login form and consent page, then the code exchange. */
  signIn(user: string, password: string, options?: { resource?: string; scope?: string; redirectUri?: string }): Promise<OidcTokens>;
  /** A token for the workload client (client_credentials). */
  clientCredentials(options?: { clientId?: string; clientSecret?: string; resource?: string }): Promise<OidcTokens>;
  /** Adds a new signing key and makes it current; keepOld: the old one stays in the JWKS. Returns the new kid. */
  rotateKey(options: { keepOld: boolean }): string;
  /** The kids published now, current first. */
  kids(): string[];
  stop(): Promise<void>;
}

const SCOPE = 'openid profile email groups';
const RESOURCE_SCOPE = 'registry';

function newSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

function html(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * fetch over node:https trusting `ca` (global fetch takes no CA per call); enough for the
 * helper's form posts and token requests: method, headers, a string or form body, manual redirects.
 */
function caFetch(ca: string): typeof globalThis.fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const { request } = await import('node:https');
    const url = new URL(String(input));
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers: init.headers as Record<string, string>, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const one of v) headers.append(k, one);
            else if (v !== undefined) headers.set(k, v);
          }
          const status = res.statusCode ?? 500;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof globalThis.fetch;
}

type Stored = { payload: Record<string, unknown>; expiresAt: number };

/**
 * oidc-provider's storage for one test provider: sessions, grants, codes, kept in this Map so
 * they survive a rebuild (rotation) and do not mix with another provider instance in the file.
 */
function memoryAdapter(store: Map<string, Stored>) {
  return class TestAdapter {
    constructor(private readonly model: string) {}
    private key = (id: string) => `${this.model}:${id}`;
    private live(key: string): Record<string, unknown> | undefined {
      const hit = store.get(key);
      if (!hit) return undefined;
      if (hit.expiresAt <= Date.now()) {
        store.delete(key);
        return undefined;
      }
      return hit.payload;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      if (typeof payload.uid === 'string') store.set(`${this.model}:uid:${payload.uid}`, { payload: { id }, expiresAt: Infinity });
    }
    async find(id: string) {
      return this.live(this.key(id));
    }
    async findByUid(uid: string) {
      const ref = this.live(`${this.model}:uid:${uid}`);
      return ref ? this.live(this.key(String(ref.id))) : undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const hit = this.live(this.key(id));
      if (hit) hit.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [k, v] of store) if (v.payload.grantId === grantId) store.delete(k);
    }
  };
}

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  const clientId = 'perch';
  const clientSecret = randomBytes(24).toString('base64url');
  const workload = { clientId: options.workloadClientId ?? 'system:serviceaccount:flux-system:source-controller', clientSecret: randomBytes(24).toString('base64url') };
  const users: Record<'alice' | 'bob', OidcUser> = {
    alice: { username: 'alice', password: 'alice-Oidc-Pw-1', sub: randomUUID(), email: 'alice@example.test', groups: ['developers'] },
    bob: { username: 'bob', password: 'bob-Oidc-Pw-2', sub: randomUUID(), email: 'bob@example.test', groups: ['readers'] },
  };
  const bySub = new Map(Object.values(users).map((u) => [u.sub, u]));
  const resources = { perch: 'https://registry.perch.test', workload: 'https://zot.example.com', other: 'https://other.example.test' };
  const audiences = { perch: clientId, workload: 'zot', other: 'other-service' };
  const audienceOf: Record<string, string> = {
    [resources.perch]: audiences.perch,
    [resources.workload]: audiences.workload,
    [resources.other]: audiences.other,
  };
  let redirectUris = options.redirectUris ?? ['http://127.0.0.1/zot/auth/callback/oidc'];
  let ttl = options.accessTokenTtlSeconds ?? 300;
  let keys: JWK[] = [newSigningKey()];
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const adapter = memoryAdapter(new Map());

  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createServer();
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  // The helper's own calls to an HTTPS provider trust its CA, not the whole process.
  const fetch = options.ca ? caFetch(options.ca) : globalThis.fetch;

  const configuration = (): Configuration => ({
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: workload.clientId,
        client_secret: workload.clientSecret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    adapter,
    jwks: { keys },
    cookies: { keys: cookieKeys },
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email', 'email_verified'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    // Keycloak puts the profile claims in the ID token too (not only at userinfo).
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => {
      const user = bySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, preferred_username: user.username, name: user.username, email: user.email, email_verified: true, groups: user.groups }),
      };
    },
    // Keycloak's access tokens carry the user's name and groups as well.
    extraTokenClaims: async (_ctx, token) => {
      const accountId = (token as { accountId?: string }).accountId;
      const user = accountId ? bySub.get(accountId) : undefined;
      return user ? { preferred_username: user.username, email: user.email, groups: user.groups } : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, client, oneOf) => oneOf ?? (client?.clientId === workload.clientId ? resources.workload : resources.perch),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          const audience = audienceOf[indicator];
          if (!audience) throw new oidcErrors.InvalidTarget();
          return { scope: RESOURCE_SCOPE, audience, accessTokenFormat: 'jwt', accessTokenTTL: ttl, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    ttl: { AccessToken: () => ttl, ClientCredentials: () => ttl, IdToken: () => ttl, Session: 3600, Grant: 3600, Interaction: 600 },
    pkce: { required: () => true },
  });

  let provider = new Provider(issuer, configuration());
  let handler = provider.callback();
  const rebuild = () => {
    provider = new Provider(issuer, configuration());
    handler = provider.callback();
  };

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const m = /^\/interaction\/([^/]+)(?:\/(login|confirm))?$/.exec(path);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, uid, step] = m;
    const details = await provider.interactionDetails(req, res);
    const page = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(body);
    };
    const loginForm = (error?: string) =>
      html(
        'Sign in to perch-test',
        `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}<form method="post" action="/interaction/${uid}/login">` +
          '<label>Username <input type="text" name="login" autocomplete="username" required autofocus></label>' +
          '<label>Password <input type="password" name="password" autocomplete="current-password" required></label>' +
          '<button type="submit" name="submit">Sign in</button></form>',
      );
    if (req.method === 'GET' && step === undefined) {
      if (details.prompt.name === 'login') return page(200, loginForm());
      return page(200, html('Allow access', `<p>perch wants to read your profile and groups.</p><form method="post" action="/interaction/${uid}/confirm"><button type="submit" name="submit">Continue</button></form>`));
    }
    if (req.method === 'POST' && step === 'login') {
      const form = await readForm(req);
      const user = Object.values(users).find((u) => u.username === form.get('login'));
      if (!user || user.password !== form.get('password')) return page(401, loginForm('Invalid username or password.'));
      await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && step === 'confirm') {
      await readForm(req);
      const { prompt, params, session, grantId } = details;
      const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
      if (!grant) throw new Error('grant vanished');
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const id = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
      return;
    }
    res.writeHead(405).end();
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(`interaction failed: ${err.message}`);
      });
      return;
    }
    handler(req, res);
  });

  const basicAuth = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  async function tokenRequest(body: URLSearchParams, id: string, secret: string): Promise<OidcTokens> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { Authorization: basicAuth(id, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${json.error ?? ''} ${json.error_description ?? ''}`);
    const tokens: OidcTokens = { accessToken: String(json.access_token), expiresIn: Number(json.expires_in) };
    if (typeof json.id_token === 'string') tokens.idToken = json.id_token;
    if (typeof json.refresh_token === 'string') tokens.refreshToken = json.refresh_token;
    return tokens;
  }

  async function signIn(username: string, password: string, opts: { resource?: string; scope?: string; redirectUri?: string } = {}): Promise<OidcTokens> {
    const redirectUri = opts.redirectUri ?? redirectUris[0]!;
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: opts.scope ?? SCOPE,
      state: randomBytes(8).toString('hex'),
      nonce: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: opts.resource ?? resources.perch,
    });
    const jar = new Map<string, string>();
    const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let url = `${issuer}/auth?${query}`;
    let init: RequestInit = {};
    for (let step = 0; step < 20; step++) {
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() } });
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attrs] = line.split(';');
        const [name, ...rest] = pair!.split('=');
        const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\b/i.test(a));
        if (expired) jar.delete(name!.trim());
        else jar.set(name!.trim(), rest.join('='));
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        const next = new URL(location, url);
        if (next.href.startsWith(redirectUri)) {
          const error = next.searchParams.get('error');
          if (error) throw new Error(`authorization failed: ${error} ${next.searchParams.get('error_description') ?? ''}`);
          const code = next.searchParams.get('code');
          if (!code) throw new Error(`no code in the redirect to ${redirectUri}`);
          return tokenRequest(new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }), clientId, clientSecret);
        }
        url = next.href;
        init = {};
        continue;
      }
      const page = await res.text();
      if (res.status !== 200) throw new Error(`sign-in page ${url} answered ${res.status}: ${page.slice(0, 300)}`);
      const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
      if (!action) throw new Error(`no form on ${url}: ${page.slice(0, 300)}`);
      const form = page.includes('name="password"') ? new URLSearchParams({ login: username, password }) : new URLSearchParams({ submit: '' });
      url = new URL(action, url).href;
      init = { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
    }
    throw new Error('sign-in did not reach the redirect URI in 20 steps');
  }

  return {
    issuer,
    url: issuer,
    port,
    clientId,
    clientSecret,
    workload,
    users,
    audiences,
    resources,
    callbackUrl: (registryUrl, providerId) => `${registryUrl.replace(/\/+$/, '')}/zot/auth/callback/${providerId}`,
    setRedirectUris(uris) {
      redirectUris = uris;
      rebuild();
    },
    setAccessTokenTtl(seconds) {
      ttl = seconds;
    },
    signIn,
    clientCredentials: (opts = {}) =>
      tokenRequest(
        new URLSearchParams({ grant_type: 'client_credentials', resource: opts.resource ?? resources.workload, scope: RESOURCE_SCOPE }),
        opts.clientId ?? workload.clientId,
        opts.clientSecret ?? workload.clientSecret,
      ),
    rotateKey({ keepOld }) {
      const key = newSigningKey();
      keys = keepOld ? [key, ...keys] : [key];
      rebuild();
      return key.kid!;
    },
    kids: () => keys.map((k) => k.kid!),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
