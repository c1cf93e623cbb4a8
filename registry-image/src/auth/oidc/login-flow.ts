/**
 * Browser sign-in with OpenID Connect: the authorization-code flow with PKCE (S256), state and
 * nonce, for each provider under http.auth.openid.providers, on zot's paths:
 *
 *   GET  /zot/auth/login?provider=<id>&callback_ui=<path>   303 to the provider's sign-in page
 *   GET  /zot/auth/callback/<id>?code=...&state=...         checks, signs in, 303 to callback_ui
 *   POST /zot/auth/logout                                   clears the session cookie; 200 {}
 *
 * 1. login: a fresh state, nonce and PKCE verifier go into a signed short-lived cookie
 *    (login-state.ts); the browser goes to the provider's authorization_endpoint (found by
 *    discovery, issuer-discovery.ts) with the state, the nonce and the verifier's S256 hash.
 * 2. callback: the state must match a sign-in cookie of this browser and provider, else the
 *    sign-in stops (a callback this browser did not start is a login-CSRF attempt); an error
 *    from the provider (error=access_denied) ends on a page that says so; the code is
 *    exchanged with the verifier and the ID token checked (login-token.ts); the user name and
 *    groups come from claimMapping; the session cookie is set (session/sessions.ts) and the
 *    browser sent to callback_ui if that is safe (login-callback-target.ts), else to "/".
 *
 * The redirect_uri is `<http.externalUrl or the request's origin>/zot/auth/callback/<id>`:
 * register exactly that with the provider. Every route here has access 'none': the callback
 * arrives from the provider's page (a cross-site navigation), and what makes it trustworthy is
 * the state cookie, not credentials.
 */
import type { PerchConfig } from '../../config/types';
import type { Handler, RequestContext } from '../../http/context';
import type { Route } from '../../http/routes';
import type { Logger } from '../../log';
import { anotherSite } from '../cross-site';
import type { Sessions } from '../session/sessions';
import { callbackTarget, registryOrigin } from './login-callback-target';
import { IssuerUnreachable, type OpenIdIssuers } from './issuer-discovery';
import { problemPage, redirect } from './login-pages';
import { CALLBACK_BASE_PATH, clearStateCookie, newSignIn, pkceChallenge, readSignIn, stateCookie } from './login-state';
import { exchangeCode, mapClaims, SignInRefused, userinfo, verifyIdToken } from './login-token';

export const LOGIN_PATH = '/zot/auth/login';
export const LOGOUT_PATH = '/zot/auth/logout';

/** `issuers`: shared with the bearer-token method (auth/index.ts), so each provider is discovered once. */
export function openIdRoutes(config: PerchConfig, log: Logger, sessions: Sessions, issuers: OpenIdIssuers): Route[] {
  const providers = config.http.auth?.openid?.providers ?? {};
  const discovery = new Map(Object.values(providers).map((provider) => [provider.id, { provider, issuer: issuers.get(provider.issuer) }]));
  const known = () => Object.keys(providers).join(', ') || 'none (http.auth.openid is not configured)';

  const login: Handler = async (ctx) => {
    const id = (ctx.query.get('provider') ?? '').toLowerCase();
    const found = discovery.get(id);
    if (!found) {
      problemPage(ctx.res, 400, 'Unknown sign-in provider', [`This registry has no OpenID provider ${JSON.stringify(id.slice(0, 64))}. Providers: ${known()}.`]);
      return;
    }
    let endpoints;
    try {
      endpoints = await found.issuer.endpoints();
    } catch (err) {
      if (!(err instanceof IssuerUnreachable)) throw err;
      problemPage(ctx.res, 503, `${found.provider.name} cannot be reached`, [err.message, 'Try again in a moment; if it persists, tell the registry\'s administrator.']);
      return;
    }
    const redirectUri = `${registryOrigin(ctx.req, config)}${CALLBACK_BASE_PATH}/${id}`;
    const signIn = newSignIn(id, redirectUri, callbackTarget(ctx.query.get('callback_ui'), ctx.req, config));
    const target = new URL(endpoints.authorization);
    const params = {
      response_type: 'code',
      client_id: found.provider.clientId,
      redirect_uri: redirectUri,
      scope: found.provider.scopes.join(' '),
      state: signIn.state,
      nonce: signIn.nonce,
      code_challenge: pkceChallenge(signIn.verifier),
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    redirect(ctx.res, target.toString(), [stateCookie(sessions.keys, ctx.req, config, signIn)]);
  };

  const callback = (id: string): Handler => async (ctx) => {
    const found = discovery.get(id)!;
    const name = found.provider.name;
    const state = ctx.query.get('state');
    const signIn = readSignIn(sessions.keys, ctx.req, id, state);
    const clear = state ? [clearStateCookie(ctx.req, config, state)] : [];
    const providerError = ctx.query.get('error');
    if (providerError !== null) {
      // RFC 6749 §4.1.2.1: the provider says why (access_denied: the user said no, or is not allowed this client).
      const description = ctx.query.get('error_description');
      log.info('sign-in refused by the provider', { provider: id, error: providerError.slice(0, 100) });
      const what = providerError === 'access_denied' ? `${name} denied the sign-in (access_denied).` : `${name} could not sign you in: ${providerError.slice(0, 100)}.`;
      problemPage(ctx.res, 403, 'Sign-in refused', [what, ...(description ? [`It said: ${description.slice(0, 300)}`] : [])], clear);
      return;
    }
    if (typeof signIn === 'string') {
      log.info('sign-in callback refused', { provider: id, reason: signIn });
      problemPage(ctx.res, 400, 'Sign-in not completed', [`This sign-in cannot be finished: ${signIn}.`, 'Start it again from the registry\'s sign-in page.'], clear);
      return;
    }
    const code = ctx.query.get('code');
    if (!code) {
      problemPage(ctx.res, 400, 'Sign-in not completed', [`${name} sent the browser back without a code.`], clear);
      return;
    }
    let principal;
    try {
      const endpoints = await found.issuer.endpoints();
      const tokens = await exchangeCode(found.provider, endpoints, code, signIn.redirectUri, signIn.verifier);
      const claims: Record<string, unknown> = { ...(await verifyIdToken(found.provider, endpoints, await found.issuer.getKey(), tokens.idToken, signIn.nonce)) };
      let mapped = mapClaims(found.provider, claims);
      if (mapped.username === undefined && tokens.accessToken) {
        const more = await userinfo(endpoints, tokens.accessToken, claims.sub);
        if (more) mapped = mapClaims(found.provider, { ...more, ...claims });
      }
      if (mapped.username === undefined) {
        throw new SignInRefused(`${name} did not say who you are: no "${found.provider.claimMapping.username}" claim (ask for a scope that carries it, or set claimMapping.username)`);
      }
      principal = { username: mapped.username, groups: mapped.groups, method: 'openid' };
    } catch (err) {
      if (!(err instanceof SignInRefused) && !(err instanceof IssuerUnreachable)) throw err;
      log.warn('sign-in failed', { provider: id, problem: err.message });
      problemPage(ctx.res, err instanceof IssuerUnreachable ? 503 : 502, 'Sign-in failed', [err.message], clear);
      return;
    }
    log.info('signed in', { provider: id, user: principal.username, groups: principal.groups.length });
    redirect(ctx.res, signIn.callback, [...clear, sessions.cookieFor(ctx.req, principal)]);
  };

  const logout: Handler = async (ctx: RequestContext) => {
    ctx.req.resume();
    const from = anotherSite(ctx.req, config);
    if (from !== undefined) {
      ctx.res.writeHead(403, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      ctx.res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: `refused: sign out from the registry's own page, not from ${from}` }] }));
      return;
    }
    const body = Buffer.from('{}');
    ctx.res.writeHead(200, { 'Set-Cookie': sessions.clearing(ctx.req), 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': body.length });
    ctx.res.end(body);
  };

  const routes: Route[] = [
    { name: 'oidc-login', pattern: /^\/zot\/auth\/login$/, methods: { GET: { handler: login, access: 'none' } } },
    { name: 'oidc-logout', pattern: /^\/zot\/auth\/logout$/, methods: { POST: { handler: logout, access: 'none' } } },
  ];
  for (const id of discovery.keys()) {
    const path = `${CALLBACK_BASE_PATH}/${id}`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    routes.push({ name: 'oidc-callback', pattern: new RegExp(`^${path}$`), methods: { GET: { handler: callback(id), access: 'none' } } });
  }
  return routes;
}
