/**
 * The key that signs the browse UI's session cookies and the short-lived OpenID sign-in state
 * cookie (HMAC-SHA256). From zot's http.auth.sessionKeysFile when given: a JSON file
 * {"hashKey": "...", "encryptKey": "..."}, of which perch uses hashKey (its UTF-8 bytes, as
 * zot's gorilla/securecookie does) and ignores encryptKey: perch's cookies are signed, not
 * encrypted, since they hold nothing secret (user, groups, method, expiry).
 *
 * Without the file a random 32-byte key is made at start. Sessions then end when the process
 * restarts, and a session made by one replica is refused by another: give every replica the
 * same sessionKeysFile (a mounted Secret) to avoid both.
 *
 * Each use gets its own purpose label inside the MAC, so a value signed as one kind of cookie
 * can never be presented as another.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** hashKey shorter than this is refused: HMAC-SHA256 wants at least its output size. */
export const MIN_HASH_KEY_BYTES = 32;

/** A sessionKeysFile that cannot be used; the message names the file and the fix, never the key. */
export class SessionKeysRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionKeysRefused';
  }
}

export class SessionKeys {
  private constructor(
    private readonly key: Buffer,
    /** "file" when read from sessionKeysFile, "generated" when made at start. */
    readonly source: 'file' | 'generated',
  ) {}

  /** Reads `path` (zot's sessionKeysFile), or makes a random key when `path` is undefined. */
  static load(path: string | undefined): SessionKeys {
    if (path === undefined) return new SessionKeys(randomBytes(32), 'generated');
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SessionKeysRefused(
        code
          ? `http.auth.sessionKeysFile ${path} cannot be read (${code}); mount the Secret that holds it, or remove sessionKeysFile to use a key made at start`
          : `http.auth.sessionKeysFile ${path} is not JSON; write it as zot does: {"hashKey": "<at least ${MIN_HASH_KEY_BYTES} random characters>", "encryptKey": "..."}`,
      );
    }
    const entries = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : [];
    // Key names without regard to case, as zot's config reader (viper) takes them.
    const hashKey = entries.find(([k]) => k.toLowerCase() === 'hashkey')?.[1];
    if (typeof hashKey !== 'string' || hashKey === '') {
      throw new SessionKeysRefused(`http.auth.sessionKeysFile ${path} has no "hashKey" string; add one, e.g. the output of: head -c 48 /dev/urandom | base64`);
    }
    const key = Buffer.from(hashKey, 'utf8');
    if (key.length < MIN_HASH_KEY_BYTES) {
      throw new SessionKeysRefused(`http.auth.sessionKeysFile ${path}: "hashKey" is ${key.length} bytes, under the ${MIN_HASH_KEY_BYTES} a session key needs; make a longer one (head -c 48 /dev/urandom | base64)`);
    }
    return new SessionKeys(key, 'file');
  }

  /** `payload` signed for `purpose`: base64url(payload) "." base64url(mac). */
  seal(purpose: string, payload: object): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(purpose, body).toString('base64url')}`;
  }

  /** The payload of a value `seal(purpose, ...)` made with this key; undefined for anything else. */
  open(purpose: string, value: string): Record<string, unknown> | undefined {
    const dot = value.indexOf('.');
    if (dot <= 0 || dot !== value.lastIndexOf('.')) return undefined;
    const body = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = this.mac(purpose, body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(purpose: string, body: string): Buffer {
    return createHmac('sha256', this.key).update(`perch:${purpose}\0`).update(body).digest();
  }
}
