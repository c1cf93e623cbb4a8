/**
 * Which issuer a bearer token names, read without verifying anything: how the token methods
 * (authenticator.ts) tell whose token it is before one of them checks it. Every request with a
 * token pays this, so it decodes only the payload with Buffer's native base64url instead of a
 * general JWT decoder.
 *
 * Returns null for something that is not a JWS compact token with a JSON object payload, and
 * undefined for a token whose payload has no string `iss`.
 */
export function unverifiedIssuer(token: string): string | undefined | null {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return null;
  const part = token.slice(first + 1, second);
  if (part.length === 0 || !/^[A-Za-z0-9_-]+$/.test(part)) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const iss = (payload as { iss?: unknown }).iss;
  return typeof iss === 'string' ? iss : undefined;
}
