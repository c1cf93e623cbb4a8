/**
 * zot's API key routes, `/zot/auth/apikey`, for any signed-in caller (Basic with htpasswd or
 * LDAP, a UI session, an OIDC bearer token): the route's access is 'authenticated', and an
 * anonymous caller (let through there when anonymous access exists) is refused here.
 *
 *   POST   {label, scopes?, expirationDate?}  201 {apiKey: "zak_...", uuid, label, ...}; the key is
 *                                             shown this once. expirationDate: RFC 3339, in the future;
 *                                             absent: the key does not expire (zot).
 *   GET                                       200 {apiKeys: [...]}: the caller's keys, never a secret
 *   DELETE ?id=<uuid>                         200; 404 when the caller has no such key
 *
 * The answers use zot's field names (APIKeyDetails). `scopes` are stored and listed, and, as in
 * zot, not enforced: a key can do what its owner can. A POST must be JSON
 * (Content-Type application/json), which a cross-site form cannot send and a cross-origin
 * script cannot send without a CORS preflight perch never grants.
 */
import type { Handler, RequestContext } from '../../http/context';
import { RegistryError } from '../../http/errors';
import { readBody } from '../../http/request-body';
import { sendJson } from '../../http/respond';
import type { Route } from '../../http/routes';
import type { StoredApiKey } from './api-key-file';
import type { ApiKeyStore } from './api-key-store';

export const API_KEY_PATH = '/zot/auth/apikey';
/** zot: MaxAPIKeyBodySize. */
export const MAX_API_KEY_BODY = 8 * 1024;
const MAX_LABEL = 200;
const MAX_SCOPES = 50;

/** zot's APIKeyDetails for one key (zot writes the zero time for "never"; perch writes null). */
function details(k: StoredApiKey, now: number) {
  return {
    uuid: k.id,
    label: k.label,
    scopes: k.scopes,
    createdAt: new Date(k.created).toISOString(),
    expirationDate: k.expires === null ? null : new Date(k.expires).toISOString(),
    isExpired: k.expires !== null && k.expires <= now,
    lastUsed: k.lastUsed === null ? null : new Date(k.lastUsed).toISOString(),
    creatorUa: k.creatorUa,
    generatedBy: 'manual',
  };
}

function caller(ctx: RequestContext): string {
  const user = ctx.identity.username;
  if (user === null) throw new RegistryError('UNAUTHORIZED', 'API keys belong to a user: sign in first (Basic credentials, or the browse UI)');
  return user;
}

function badRequest(message: string): RegistryError {
  return new RegistryError('REQUEST_MALFORMED', message);
}

interface CreateBody {
  label: string;
  scopes: string[];
  expires: number | null;
}

function parseCreate(body: Buffer, now: number): CreateBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('the body is not JSON; send {"label": "ci", "expirationDate": "2030-01-01T00:00:00Z"}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('the body must be a JSON object: {"label": "...", "scopes": [...], "expirationDate": "..."}');
  const { label = '', scopes = [], expirationDate = '' } = parsed as Record<string, unknown>;
  if (typeof label !== 'string' || label.length > MAX_LABEL) throw badRequest(`"label" must be a string of at most ${MAX_LABEL} characters`);
  if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES || !scopes.every((s) => typeof s === 'string' && s.length <= MAX_LABEL)) {
    throw badRequest(`"scopes" must be a list of at most ${MAX_SCOPES} strings`);
  }
  if (typeof expirationDate !== 'string') throw badRequest('"expirationDate" must be an RFC 3339 time, e.g. "2030-01-01T00:00:00Z"');
  let expires: number | null = null;
  if (expirationDate !== '') {
    // RFC 3339 with a zone (Z or ±hh:mm), as zot's time.RFC3339 parse demands.
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(expirationDate) || !Number.isFinite(Date.parse(expirationDate))) {
      throw badRequest(`"expirationDate" ${JSON.stringify(expirationDate.slice(0, 40))} is not an RFC 3339 time such as "2030-01-01T00:00:00Z"`);
    }
    expires = Date.parse(expirationDate);
    if (expires <= now) throw badRequest('"expirationDate" is in the past; give a future time, or leave it out for a key that does not expire');
  }
  return { label, scopes, expires };
}

export function apiKeyRoutes(store: ApiKeyStore, now: () => number = Date.now): Route[] {
  const create: Handler = async (ctx) => {
    const owner = caller(ctx);
    // A key cannot make keys: a leaked key must not outlive its revocation through keys it made.
    if (ctx.identity.login?.method === 'apikey') {
      ctx.req.resume();
      throw new RegistryError('DENIED', 'an API key cannot create API keys; sign in with your password or in the browse UI to make one');
    }
    const type = String(ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      ctx.req.resume();
      throw badRequest('send the body as JSON with Content-Type: application/json');
    }
    const input = parseCreate(await readBody(ctx.req, MAX_API_KEY_BODY), now());
    const { key, record } = await store.create({
      owner,
      // Only the groups the login method reported; http.accessControl's are looked up at each use.
      groups: ctx.identity.login?.groups ?? [],
      ...input,
      creatorUa: String(ctx.req.headers['user-agent'] ?? '').slice(0, 200),
    });
    ctx.parts.log.info('API key created', { user: owner, id: record.id, label: record.label, expires: record.expires === null ? 'never' : new Date(record.expires).toISOString() });
    sendJson(ctx.res, 201, { ...details(record, now()), apiKey: key }, { 'Cache-Control': 'no-store' });
  };
  const list: Handler = async (ctx) => {
    const owner = caller(ctx);
    sendJson(ctx.res, 200, { apiKeys: store.list(owner).map((k) => details(k, now())) }, { 'Cache-Control': 'no-store' });
  };
  const revoke: Handler = async (ctx) => {
    const owner = caller(ctx);
    const ids = ctx.query.getAll('id');
    if (ids.length !== 1 || ids[0] === '') throw badRequest('name the key to revoke once: DELETE /zot/auth/apikey?id=<uuid>');
    if (!(await store.revoke(owner, ids[0]))) throw new RegistryError('NOT_FOUND', `you have no API key with id ${JSON.stringify(ids[0].slice(0, 64))}`);
    ctx.parts.log.info('API key revoked', { user: owner, id: ids[0] });
    sendJson(ctx.res, 200, { revoked: ids[0] }, { 'Cache-Control': 'no-store' });
  };
  return [
    {
      name: 'apikey',
      pattern: /^\/zot\/auth\/apikey$/,
      methods: {
        GET: { handler: list, access: 'authenticated' },
        POST: { handler: create, access: 'authenticated' },
        DELETE: { handler: revoke, access: 'authenticated' },
      },
    },
  ];
}

/** The route when http.auth.apikey is off (or keys cannot be stored): a 404 that says why. */
export function apiKeysOffRoutes(why: string): Route[] {
  const off: Handler = async (ctx) => {
    ctx.req.resume();
    throw new RegistryError('NOT_FOUND', why);
  };
  return [{ name: 'apikey', pattern: /^\/zot\/auth\/apikey$/, methods: { GET: { handler: off, access: 'none' }, POST: { handler: off, access: 'none' }, DELETE: { handler: off, access: 'none' } } }];
}
