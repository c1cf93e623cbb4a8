/**
 * The page, its script, styles and icon, and the sign-in step (the browser's Basic dialog, or
 * a choice of OpenID providers). None of these carries registry data, so they need no
 * credentials; everything the page shows comes from the data endpoints (api-handlers.ts),
 * which need the same access as the API.
 */
import { basicChallenge } from '../auth/challenge';
import { anotherSite } from '../auth/cross-site';
import { escapeHtml } from '../auth/oidc/login-pages';
import type { RequestContext } from '../http/context';
import { RegistryError } from '../http/errors';
import { ICON_SVG } from './assets/icon';
import { PAGE_HTML, PAGE_HTML_OPENID, pageHtml } from './assets/page';
import { APP_SCRIPT } from './assets/script';
import { STYLES_CSS } from './assets/styles';
import { passwordLogin } from './api-handlers';
import { asset, SECURITY_HEADERS, sendAsset, type Asset } from './respond';

const PAGE = asset('text/html; charset=utf-8', PAGE_HTML);
const PAGE_OPENID = asset('text/html; charset=utf-8', PAGE_HTML_OPENID);
/** Served under /_ui/<name>; the route's pattern lists the same names. */
const ASSETS: Readonly<Record<string, Asset>> = {
  'app.js': asset('text/javascript; charset=utf-8', APP_SCRIPT),
  'app.css': asset('text/css; charset=utf-8', STYLES_CSS),
  'icon.svg': asset('image/svg+xml', ICON_SVG),
};

/** Pages with the trust extension on (its section on manifest pages), by sign-in kind. */
const PAGE_TRUST = asset('text/html; charset=utf-8', pageHtml(' data-trust="on"'));
const PAGE_OPENID_TRUST = asset('text/html; charset=utf-8', pageHtml(' data-sign-in="openid" data-trust="on"'));

export async function page(ctx: RequestContext): Promise<void> {
  const { config } = ctx.parts;
  const openid = Object.keys(config.http.auth?.openid?.providers ?? {}).length > 0;
  const trust = config.extensions.trust;
  const trustOn = trust?.enable === true && (trust.cosign || trust.notation);
  sendAsset(ctx, trustOn ? (openid ? PAGE_OPENID_TRUST : PAGE_TRUST) : openid ? PAGE_OPENID : PAGE);
}

export async function staticAsset(ctx: RequestContext): Promise<void> {
  const file = ASSETS[ctx.params.asset];
  if (!file) throw new RegistryError('NOT_FOUND', `no UI file ${ctx.params.asset}`);
  sendAsset(ctx, file);
}

/** What a person sees after cancelling the browser's sign-in dialog: no data, a way back. */
const SIGN_IN_CANCELLED = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · perch registry</title>
<link rel="stylesheet" href="/_ui/app.css"></head><body><main><section class="notice"><h1>Not signed in</h1>
<p>Sign in with a user name and password from the registry's htpasswd file (the ones <code>docker login</code> and <code>helm registry login</code> take).</p>
<p><a class="button" href="/_ui/login">Try again</a> <a href="/">Back to the registry</a></p></section></main></body></html>
`;

/** What a link from another site to /_ui/login gets: no login dialog, a way to the real one. */
const SIGN_IN_FROM_HERE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · perch registry</title>
<link rel="stylesheet" href="/_ui/app.css"></head><body><main><section class="notice"><h1>Sign in from the registry's own page</h1>
<p>Another site sent you here. This registry asks for your password only when you sign in from its own page.</p>
<p><a class="button" href="/_ui/login">Sign in</a> <a href="/">Go to the registry</a></p></section></main></body></html>
`;

/**
 * GET /_ui/login: where "Sign in" leads.
 *
 * With OpenID providers (http.auth.openid) it is a page of "Sign in with <provider name>"
 * buttons, each a link to /zot/auth/login?provider=<id> (auth/oidc/login-flow.ts), plus, when
 * htpasswd or LDAP is configured too, a link to /_ui/login?with=password for the Basic step.
 *
 * The Basic step: browsers only show their login dialog for a Basic challenge, so this answers
 * one whatever perch.auth.challenge says (Basic credentials are accepted in Bearer mode too;
 * auth/registry-auth.ts). Once the browser has credentials for /_ui/, it sends them with every
 * /_ui/api/ request (RFC 7617 §2.2: the protection space covers the paths below the one that
 * asked), so the page works in both modes.
 *
 * Reached from a page of another site (auth/cross-site.ts), it neither challenges nor looks at
 * credentials: that site could otherwise open the browser's login dialog, or sign the browser
 * in as a user of its choosing with `user:pass@` in the link. The answer is a page whose
 * "Sign in" link, followed from here, is same-origin.
 */
export async function login(ctx: RequestContext): Promise<void> {
  const { auth, config } = ctx.parts;
  const providers = Object.values(config.http.auth?.openid?.providers ?? {});
  const passwords = passwordLogin(config);
  if (!passwords && providers.length === 0) {
    redirectHome(ctx); // no logins configured: there is nothing to sign in to
    return;
  }
  if (anotherSite(ctx.req, config) !== undefined) {
    sendPage(ctx, 403, SIGN_IN_FROM_HERE, {});
    return;
  }
  let username: string | null = null;
  try {
    username = (await auth.authenticate(ctx.req)).username;
  } catch (err) {
    // Wrong password, a stale token or session: ask again, with the challenge a browser understands.
    if (!(err instanceof RegistryError) || err.status !== 401) throw err;
  }
  if (username !== null) {
    redirectHome(ctx);
    return;
  }
  if (providers.length > 0 && ctx.query.get('with') !== 'password') {
    sendPage(ctx, 200, signInChoices(providers, passwords), {});
    return;
  }
  if (!passwords) {
    redirectHome(ctx);
    return;
  }
  sendPage(ctx, 401, SIGN_IN_CANCELLED, { 'WWW-Authenticate': basicChallenge(config.http.realm ?? 'perch') });
}

/** The sign-in page with OpenID providers: one button each (names come from the config, escaped). */
function signInChoices(providers: Array<{ id: string; name: string }>, passwords: boolean): string {
  const buttons = providers
    .map((p) => `<p><a class="button sign-in-provider" data-provider="${escapeHtml(p.id)}" href="/zot/auth/login?provider=${encodeURIComponent(p.id)}&amp;callback_ui=%2F">Sign in with ${escapeHtml(p.name)}</a></p>`)
    .join('\n');
  const password = passwords
    ? `<p><a id="sign-in-password" href="/_ui/login?with=password">Sign in with a user name and password</a> (the ones <code>docker login</code> and <code>helm registry login</code> take)</p>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · perch registry</title>
<link rel="stylesheet" href="/_ui/app.css"></head><body><main><section class="notice" id="sign-in"><h1>Sign in</h1>
${buttons}
${password}
<p><a href="/">Back to the registry</a></p></section></main></body></html>
`;
}

function sendPage(ctx: RequestContext, status: number, html: string, headers: Record<string, string>): void {
  const body = Buffer.from(html);
  ctx.res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'Cache-Control': 'no-store',
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
  });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

function redirectHome(ctx: RequestContext): void {
  ctx.res.writeHead(303, { ...SECURITY_HEADERS, Location: '/', 'Cache-Control': 'no-store', 'Content-Length': 0 });
  ctx.res.end();
}
