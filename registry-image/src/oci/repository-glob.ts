/**
 * Repository globs as zot matches them: zot calls doublestar v4's `Match(pattern, repo)`
 * (pkg/api/authz.go `can`, pkg/requestcontext `matchesRepo`), so a key means here what it
 * means there:
 *   `*`      any run of characters inside one path segment (never `/`)
 *   `?`      one character, never `/`
 *   `**`     as a whole segment: zero or more segments, so `tmp/**` matches `tmp`, `tmp/a`
 *            and `tmp/a/b`, `**` alone matches every repository, and between two slashes
 *            it may match no segment at all (`a/`, `**`, `/b` together match `a/b`);
 *            anywhere else (`abc**`) it is just `*`
 *   `[abc]`, `[a-z]`, `[^a]`, `[!a]`  one character from (or not from) a class
 *   `{a,b}`  either alternative (alternatives may nest and hold `/`)
 *   `\x`     the character x itself
 * The cases are pinned against doublestar's own test table in test/auth/glob.test.ts.
 * The config loader already refused patterns that do not compile (repositoryGlobProblem below);
 * `compileGlob` still throws on them rather than guessing.
 */

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/;

function literal(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

/** Characters that end a path segment for the purpose of recognising a whole-segment `**`. */
function isSegmentStart(pattern: string, i: number, depth: number): boolean {
  if (i === 0) return true;
  const prev = pattern[i - 1];
  return prev === '/' || (depth > 0 && (prev === '{' || prev === ','));
}

function isSegmentEnd(pattern: string, i: number, depth: number): boolean {
  if (i >= pattern.length) return true;
  const next = pattern[i];
  return next === '/' || (depth > 0 && (next === ',' || next === '}'));
}

/** `**` followed by the end of the pattern or of the current alternative. */
function isTrailingDoubleStar(pattern: string, i: number, depth: number): boolean {
  if (pattern[i] !== '*' || pattern[i + 1] !== '*') return false;
  const after = i + 2;
  return after >= pattern.length || (depth > 0 && (pattern[after] === ',' || pattern[after] === '}'));
}

function compileClass(pattern: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '^' || pattern[i] === '!') {
    negate = true;
    i++;
  }
  const items: string[] = [];
  const chars: string[] = [];
  // Read the members first (escapes resolved), then look for ranges.
  let closed = false;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 >= pattern.length) break;
      chars.push(pattern[++i]);
      items.push('lit');
    } else if (c === ']') {
      closed = true;
      break;
    } else {
      chars.push(c);
      items.push(c === '-' ? 'dash' : 'lit');
    }
  }
  if (!closed || chars.length === 0) throw new Error('a "[" has no closing "]"');
  let body = '';
  for (let k = 0; k < chars.length; k++) {
    const isRange = items[k + 1] === 'dash' && k + 2 < chars.length && items[k] !== 'dash';
    if (isRange) {
      body += `${escapeClassChar(chars[k])}-${escapeClassChar(chars[k + 2])}`;
      k += 2;
    } else {
      body += escapeClassChar(chars[k]);
    }
  }
  // A class never matches the segment separator, negated or not (doublestar splits on "/").
  return { source: negate ? `[^/${body}]` : `(?!/)[${body}]`, end: i };
}

function escapeClassChar(c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

export function compileGlob(pattern: string): RegExp {
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw new Error('the pattern ends with an unfinished escape "\\"');
      out += literal(pattern[++i]);
    } else if (c === '/' && isTrailingDoubleStar(pattern, i + 1, depth)) {
      // "a/**" also matches "a" itself (doublestar: Match("a/**", "a") is true).
      out += '(?:/.*)?';
      i += 2;
    } else if (c === '*') {
      let stars = 1;
      while (pattern[i + stars] === '*') stars++;
      if (stars >= 2 && isSegmentStart(pattern, i, depth) && isSegmentEnd(pattern, i + stars, depth)) {
        if (pattern[i + stars] === '/') {
          out += '(?:.*/)?'; // "**/" : zero or more whole segments
          i += stars; // also consumes the "/"
        } else {
          out += '.*';
          i += stars - 1;
        }
      } else {
        out += '[^/]*';
        i += stars - 1;
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const cls = compileClass(pattern, i);
      out += cls.source;
      i = cls.end;
    } else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === ',' && depth > 0) {
      out += '|';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else {
      out += literal(c);
    }
  }
  if (depth > 0) throw new Error('a "{" has no closing "}"');
  return new RegExp(`^${out}$`, 's');
}

export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

/**
 * Why `pattern` is not a usable repository glob, or undefined when it is. The config loader
 * refuses such patterns at load time (zot refuses them too, through doublestar's
 * ValidatePattern), so the matcher above never meets them at request time.
 */
export function repositoryGlobProblem(pattern: string): string | undefined {
  if (pattern === '') return 'is empty';
  try {
    compileGlob(pattern);
    return undefined;
  } catch (err) {
    return `is not a valid glob: ${(err as Error).message}`;
  }
}
