/**
 * The pages the sign-in flow answers with itself: what went wrong (the provider said
 * access_denied, the state did not match, the provider is down), always with a way back.
 * Plain HTML under the browse UI's Content-Security-Policy (ui/respond.ts); every text that
 * came from the request or the provider is escaped.
 */
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../../ui/respond';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A problem page: `title` and `lines` are plain text (escaped here). */
export function problemPage(res: ServerResponse, status: number, title: string, lines: string[], cookies: string[] = []): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · perch registry</title>
<link rel="stylesheet" href="/_ui/app.css"></head><body><main><section class="notice warn" id="sign-in-problem"><h1>${escapeHtml(title)}</h1>
${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')}
<p><a class="button" href="/_ui/login">Sign in again</a> <a href="/">Back to the registry</a></p></section></main></body></html>
`;
  const body = Buffer.from(html);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...(cookies.length ? { 'Set-Cookie': cookies } : {}),
    'Cache-Control': 'no-store',
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}

/** A 303 to `location`, with cookies to set. */
export function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(303, { ...SECURITY_HEADERS, Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0, ...(cookies.length ? { 'Set-Cookie': cookies } : {}) });
  res.end();
}
