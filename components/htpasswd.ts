/**
 * The htpasswd file the registry reads at /secret/htpasswd: one `user:bcrypt-hash` line per
 * user, as Apache's `htpasswd -B` writes and zot (golang.org/x/crypto/bcrypt) reads.
 *
 * The salt is not drawn here: it comes from bytes a Pulumi random resource keeps in the stack
 * state, so rerunning `pulumi up` with nothing changed hashes to the same line and the Secret
 * never shows a diff (DESIGN.md "The Kubernetes side": credentials).
 */
import bcrypt from 'bcryptjs';
import { ConfigError } from './config-error';

/** bcrypt's work factor: 2^10 rounds, Apache htpasswd's and zot's usual cost. */
export const BCRYPT_COST = 10;
/** bcrypt salts are 16 bytes (22 characters of bcrypt's base64). */
export const SALT_BYTES = 16;
/** bcrypt ignores everything after the 72nd byte of a password. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

/** `$2b$10$` + 22 salt characters, from 16 bytes given as standard base64. */
export function bcryptSalt(saltBytesBase64: string): string {
  const bytes = Buffer.from(saltBytesBase64, 'base64');
  if (bytes.length < SALT_BYTES) {
    throw new Error(`the bcrypt salt source holds ${bytes.length} bytes; it needs ${SALT_BYTES}`);
  }
  const cost = String(BCRYPT_COST).padStart(2, '0');
  return `$2b$${cost}$${bcrypt.encodeBase64(bytes.subarray(0, SALT_BYTES), SALT_BYTES)}`;
}

/** Why a password cannot go into htpasswd, or undefined when it can. Never echoes it. */
export function passwordProblem(password: string): string | undefined {
  if (password === '') return 'is empty';
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) {
    return `is longer than ${BCRYPT_MAX_PASSWORD_BYTES} bytes, which bcrypt would silently cut off`;
  }
  if (/[\r\n]/.test(password)) return 'contains a line break, which `helm registry login --password-stdin` would cut off';
  return undefined;
}

/** One htpasswd line, deterministic for a given user, password and salt source. */
export function htpasswdLine(user: string, password: string, saltBytesBase64: string): string {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new ConfigError('password', `${problem}; set another with: pulumi config set --secret password ...`);
  return `${user}:${bcrypt.hashSync(password, bcryptSalt(saltBytesBase64))}`;
}

/** `user:$2a$|$2b$|$2y$` + two-digit cost + 53 characters of salt and hash. */
const BCRYPT_LINE = /^([^:\s]+):(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53})$/;

export interface HtpasswdEntry {
  user: string;
  hash: string;
}

/**
 * Reads an htpasswd file given in stack config. Only bcrypt lines are accepted: zot and perch
 * verify nothing else. Blank lines are skipped. Throws naming the line, never its content.
 */
export function parseHtpasswd(key: string, text: string): HtpasswdEntry[] {
  const entries: HtpasswdEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const match = BCRYPT_LINE.exec(line);
    if (!match) {
      throw new ConfigError(
        key,
        `line ${index + 1} is not a bcrypt htpasswd entry "user:$2y$..."; make one with: htpasswd -nbB USER PASSWORD`,
      );
    }
    entries.push({ user: match[1]!, hash: match[2]! });
  });
  if (entries.length === 0) {
    throw new ConfigError(key, 'holds no entries; give at least one line made with: htpasswd -nbB USER PASSWORD');
  }
  return entries;
}

/** The file text for entries, one per line with a trailing newline. */
export function htpasswdText(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Does `password` match the entry for `user`? For a stack that sets both htpasswd and password. */
export function htpasswdMatches(entries: readonly HtpasswdEntry[], user: string, password: string): boolean {
  const entry = entries.find((e) => e.user === user);
  return entry !== undefined && bcrypt.compareSync(password, entry.hash);
}
