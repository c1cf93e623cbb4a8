/**
 * Bearer tokens whose signature and claims were checked, remembered until they expire: a push
 * sends the same token on every one of its requests, and checking a JWT signature costs far
 * more than a map lookup. perch's own tokens (tokens.ts), an external issuer's
 * (issuer-token-authenticator.ts) and OpenID tokens (oidc/oidc-token-authenticator.ts) each
 * keep one.
 *
 * Keyed by the token itself. A bearer token is already in memory as the request's header, so
 * the memo reveals nothing new; a digest key would cost a SHA-256 of the whole token on every
 * request (about 9 µs for an 816-byte Keycloak token, half of what an OpenID request cost),
 * against a string hash and compare here. At most `max` entries (expired ones dropped first,
 * then the oldest), so about 10,000 tokens of 1 KiB: 10 MiB at worst.
 *
 * Expiry is checked on every use, with the same clock tolerance the signature check allows:
 * a remembered token past its `exp` is forgotten and refused with the method's error (TokenInvalid).
 */
export const DEFAULT_MAX_VERIFIED = 10_000;

interface Entry<T> {
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
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    if (this.now() < hit.expMs + this.toleranceMs) return hit.value;
    this.entries.delete(token);
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
    this.entries.set(token, { value, expMs });
  }

  /** Forgets everything (the key that verified them changed). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
