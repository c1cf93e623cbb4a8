/**
 * The htpasswd file format, as Apache's `htpasswd -B` writes it and zot reads it: one
 * `user:hash` per line. perch checks bcrypt hashes only (`$2y$`, `$2a$`, `$2b$`: the same
 * algorithm; Apache writes `$2y$`, bcryptjs reads all three). Blank lines and lines starting
 * with `#` are skipped.
 *
 * A line perch cannot use (a hash that is not bcrypt: Apache's default MD5 `$apr1$`, `{SHA}`,
 * crypt, plain text; no `:`; no user name) is a problem that `refuses` the file: the registry
 * does not load a file with such a line (htpasswd-store.ts), because skipping it would lock
 * that user out without a word to them, and an operator who ran `htpasswd` without `-B` should
 * hear about it at once. When a user appears twice the first line wins, as in Apache's own
 * `htpasswd -v`; the repeat is reported but refuses nothing.
 *
 * Problems never quote the line: it holds a password hash, or a password.
 */

export interface HtpasswdEntry {
  user: string;
  hash: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface HtpasswdProblem {
  line: number;
  message: string;
  /** The file must not be loaded while this line is in it. */
  refuses: boolean;
}

export interface ParsedHtpasswd {
  entries: Map<string, HtpasswdEntry>;
  problems: HtpasswdProblem[];
}

/** bcrypt in modular crypt form: `$2y$10$` + 22 characters of salt + 31 of hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export function isBcryptHash(hash: string): boolean {
  const m = BCRYPT.exec(hash);
  return m !== null && Number(m[1]) >= 4 && Number(m[1]) <= 31;
}

export function bcryptCost(hash: string): number {
  return Number(BCRYPT.exec(hash)?.[1] ?? 10);
}

/** What a non-bcrypt hash is, from its form alone (never its content). */
function describeHash(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'an Apache MD5 ($apr1$) hash, what htpasswd writes without -B';
  if (hash.startsWith('{SHA}')) return 'a SHA-1 ({SHA}) hash';
  if (hash.startsWith('$1$')) return 'an MD5-crypt ($1$) hash';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'a SHA-crypt hash';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  if (hash === '') return 'an empty hash';
  // htpasswd -d: 2 characters of salt and 11 of hash from crypt(3)'s alphabet.
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return 'a crypt (DES) hash, or a 13-character plain-text password';
  return 'an unknown hash or a plain-text password';
}

const RECREATE = 'recreate it with "perch htpasswd add FILE USER" or "htpasswd -B FILE USER"';

export function parseHtpasswd(text: string): ParsedHtpasswd {
  const entries = new Map<string, HtpasswdEntry>();
  const problems: HtpasswdProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const colon = raw.indexOf(':');
    if (colon < 0) {
      problems.push({ line, refuses: true, message: `line ${line} has no ":" between user and hash; ${RECREATE}` });
      continue;
    }
    const user = raw.slice(0, colon);
    const hash = raw.slice(colon + 1).trim();
    if (user === '') {
      problems.push({ line, refuses: true, message: `line ${line} has an empty user name; ${RECREATE}` });
      continue;
    }
    if (!isBcryptHash(hash)) {
      problems.push({
        line,
        refuses: true,
        message: `line ${line}: user ${JSON.stringify(user)} has ${describeHash(hash)}, and perch checks only bcrypt; ${RECREATE}`,
      });
      continue;
    }
    const first = entries.get(user);
    if (first) {
      problems.push({ line, refuses: false, message: `line ${line} repeats user ${JSON.stringify(user)} (first at line ${first.line}); the first entry is used` });
      continue;
    }
    entries.set(user, { user, hash, line });
  }
  return { entries, problems };
}

/** A user name the file format can hold: not empty, no ":" and no line break. */
export function userNameProblem(user: string): string | undefined {
  if (user === '') return 'the user name is empty';
  if (user.includes(':')) return 'a user name cannot contain ":" (it separates user and hash)';
  if (/[\r\n]/.test(user)) return 'a user name cannot contain a line break';
  return undefined;
}

/** The user named on a raw line, for editing files line by line (comments and junk keep their place). */
export function userOfLine(raw: string): string | undefined {
  const line = raw.replace(/\r$/, '');
  if (line.trimStart().startsWith('#')) return undefined;
  const colon = line.indexOf(':');
  return colon > 0 ? line.slice(0, colon) : undefined;
}
