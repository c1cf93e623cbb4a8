/**
 * Headers every response carries, beside X-Content-Type-Options (set by the server itself).
 * Registry clients ignore all of them; they matter when a browser opens a registry URL:
 *
 * - X-Frame-Options DENY and CSP frame-ancestors 'none': no page may frame the registry (or
 *   the browse UI), so a click cannot be stolen. frame-ancestors is the only CSP directive set,
 *   so the UI's own scripts and styles are not restricted by it.
 * - Referrer-Policy no-referrer: repository names in URLs do not leak to other sites.
 * - Strict-Transport-Security, only over TLS (RFC 6797 §7.2 forbids it over plain HTTP) and
 *   never for localhost or an IP address: browsers apply HSTS to every port of a host, so
 *   sending it for "localhost" would force HTTPS on a developer's other local services.
 *   No includeSubDomains: the registry does not speak for sibling hosts.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';

const ALWAYS: Readonly<Record<string, string>> = Object.freeze({
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
});

/** One year, the value RFC 6797's examples and the HSTS preload list use. */
const WITH_HSTS: Readonly<Record<string, string>> = Object.freeze({ ...ALWAYS, 'Strict-Transport-Security': 'max-age=31536000' });

function hostName(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/** One of two constant objects, so the server can merge each with its own headers once. */
export function securityHeaders(req: IncomingMessage): Record<string, string> {
  if (!(req.socket as TLSSocket).encrypted) return ALWAYS;
  const name = hostName(req);
  if (name === '' || name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return ALWAYS;
  return WITH_HSTS;
}
