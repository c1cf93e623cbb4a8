/**
 * What a request's Authorization header presents, without judging it yet.
 *
 * zot's rules kept here: a request with more than one Authorization header is refused (it
 * could smuggle a second identity past a proxy); `Basic Og==` (empty user and password, what
 * containers/image sends when it has no credentials for a Basic challenge) counts as no
 * credentials at all.
 */
import type { IncomingMessage } from 'node:http';

export type Presented =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'invalid'; reason: string };

/** IANA's HTTP Authentication Scheme Registry, and a few unregistered ones clients send. */
const KNOWN_SCHEMES: ReadonlySet<string> = new Set([
  'aws4-hmac-sha256',
  'concealed',
  'digest',
  'dpop',
  'gnap',
  'hoba',
  'mutual',
  'negotiate',
  'ntlm',
  'oauth',
  'privatetoken',
  'scram-sha-1',
  'scram-sha-256',
  'token',
  'vapid',
]);

/** Longer than any header a real client sends; refused before decoding. */
const MAX_CREDENTIALS_LENGTH = 16 * 1024;

export function presentedCredentials(req: IncomingMessage): Presented {
  const all = authorizationHeaders(req);
  if (all.length > 1) return { kind: 'invalid', reason: 'more than one Authorization header' };
  const header = all[0]?.trim();
  if (!header) return { kind: 'none' };
  if (header.length > MAX_CREDENTIALS_LENGTH) return { kind: 'invalid', reason: 'Authorization header too long' };
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return { kind: 'invalid', reason: 'Basic credentials are not base64' };
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid', reason: 'Basic credentials have no ":" between user and password' };
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (user === '' && password === '') return { kind: 'none' };
    return { kind: 'basic', user, password };
  }
  if (scheme === 'bearer') {
    if (!value) return { kind: 'invalid', reason: 'Bearer without a token' };
    return { kind: 'bearer', token: value };
  }
  // Named only when it is a scheme people use: a header without one is often a bare password
  // or token (`curl -H "Authorization: $TOKEN"`), and the reason goes to the log and the body.
  return { kind: 'invalid', reason: KNOWN_SCHEMES.has(scheme) ? `unsupported authorization scheme ${JSON.stringify(scheme)}; send Basic or Bearer` : 'unsupported authorization scheme; send Basic or Bearer' };
}

/**
 * Every Authorization header as sent. Read from rawHeaders: `req.headersDistinct` would build an
 * object of all the request's headers on each request.
 */
function authorizationHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const found: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') found.push(raw[i + 1]);
  }
  return found;
}

/** The client's address, for keying failed logins (never logged with a credential). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
