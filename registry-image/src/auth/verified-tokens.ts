/**
 * Bearer tokens whose signature and claims were checked, remembered until they expire: a push
 * sends the same token on every one of its requests, and checking a JWT signature costs far
 * more than a map lookup. perch's own tokens (tokens.ts), an external issuer's
 * (issuer-token-authenticator.ts) and OpenID tokens (oidc/oidc-token-authenticator.ts) each
 * keep one.
 *
 * Looked up by the token's last TAIL characters (the end of its signature: random to anyone
 * without the signing key), then the whole token compared, so a lookup costs a 64-character
 * hash and a memcmp. A SHA-256 of an 816-byte Keycloak token cost 3-9 µs on every request (half
 * of what an OpenID request cost); hashing the whole token as a Map key costs V8 about as much.
 * Two tokens sharing a tail only evict each other: the full compare keeps one from answering
 * for the other. The whole token is kept: it is in memory as the request's header anyway. At
 * most `max` entries (expired ones dropped first, then the oldest): 10,000 tokens of 1 KiB,
 * about 10 MiB, at worst.
 *
 * Expiry is checked on every use, with the same clock tolerance the signature check allows:
 * a remembered token past its `exp` is forgotten and refused with the method's error (TokenInvalid).
 */
export const DEFAULT_MAX_VERIFIED = 10_000;

/** How many trailing characters of a token key the map. */
const TAIL = 64;
const tailOf = (token: string) => (token.length > TAIL ? token.slice(-TAIL) : token);

interface Entry<T> {
  token: string;
  value: T;
  expMs: number;
}

export class VerifiedTokens<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly now: () => number,
    private readonly toleranceMs: number,
    /** The refusal for a remembered token that has expired (the method's own wording). */
    private readonly expired: (value: T) => Error,
    private readonly max = DEFAULT_MAX_VERIFIED,
  ) {}

  /** The remembered result, undefined when the token was not seen; throws when it expired since. */
  get(token: string): T | undefined {
    const key = tailOf(token);
    const hit = this.entries.get(key);
    if (!hit || hit.token !== token) return undefined;
    if (this.now() < hit.expMs + this.toleranceMs) return hit.value;
    this.entries.delete(key);
    throw this.expired(hit.value);
  }

  remember(token: string, value: T, expMs: number): void {
    if (this.entries.size >= this.max) {
      const now = this.now();
      for (const [key, entry] of this.entries) if (entry.expMs + this.toleranceMs <= now) this.entries.delete(key);
      if (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    this.entries.set(tailOf(token), { token, value, expMs });
  }

  /** Forgets everything (the key that verified them changed). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
