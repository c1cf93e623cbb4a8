/**
 * How every UI response is sent: the security headers, caching, and the switch that keeps
 * the UI off unless `extensions.ui.enable` is set.
 *
 * The page loads nothing but its own script, styles and icon (no CDN: registries run
 * offline), builds the page with DOM calls and textContent only, and talks to its own origin
 * only. The Content-Security-Policy says exactly that, so a chart description or annotation
 * that smuggles markup can neither run script nor load anything, and Trusted Types make any
 * string-to-HTML sink a hard error instead of a hole. Nothing may frame the page
 * (clickjacking), and no URL (which names repositories) leaks out in a Referer.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../http/context';
import { RegistryError } from '../http/errors';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface Asset {
  contentType: string;
  body: Buffer;
  etag: string;
}

export function asset(contentType: string, text: string): Asset {
  const body = Buffer.from(text, 'utf8');
  return { contentType, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * Static files: revalidated on every load (no-cache) so a registry upgrade shows its new UI at
 * once, answered 304 when unchanged so that revalidation costs one tiny round trip.
 */
export function sendAsset(ctx: RequestContext, file: Asset): void {
  const headers = { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache', ETag: file.etag };
  if (ctx.req.headers['if-none-match'] === file.etag) {
    ctx.res.writeHead(304, headers);
    ctx.res.end();
    return;
  }
  ctx.res.writeHead(200, { ...headers, 'Content-Type': file.contentType, 'Content-Length': file.body.length });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : file.body);
}

/** Data answers are per user: never stored by the browser or a proxy. */
export function sendData(ctx: RequestContext, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  ctx.res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': bytes.length,
  });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : bytes);
}
