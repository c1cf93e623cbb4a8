/**
 * The part of CEL (Common Expression Language) perch evaluates for zot's
 * `http.auth.bearer.oidc[].claimMapping` (zot runs cel-go; perch has no CEL engine, and pulling
 * one in for string joins would be a large dependency for little):
 *
 *   claims.sub                                  a claim
 *   claims.a.b   claims['kubernetes.io/x']      a nested claim, by dot or by quoted key
 *   'text'  "text"                              a string literal (\' \" \\ escapes)
 *   claims.iss + '/' + claims.sub               concatenation of the above
 *   ['ci', 'github-actions']                    a list of string literals (groups only)
 *
 * Anything else (functions such as split(), comparisons, `vars.`, numbers) is refused when the
 * configuration is read, with the expression and these forms named: a mapping perch cannot
 * evaluate must stop the registry at start, not turn every workload into 401 at run time.
 *
 * Evaluation is strict: a claim that is missing or not a string in a username expression
 * fails the token (zot's CEL would fail the same way), so a token never maps to "undefined" or
 * "[object Object]". A groups expression yields a list of strings; a missing groups claim is
 * no groups (issuers omit the claim for users in none).
 */

export type ClaimNode =
  | { kind: 'claim'; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: string[] };

export interface ClaimExpression {
  /** The expression as configured (for messages). */
  readonly text: string;
  /** The terms joined by `+`; one term when there is no `+`. */
  readonly terms: readonly ClaimNode[];
}

const SUPPORTED_FORMS =
  "perch evaluates these CEL forms: claims.NAME, claims.a.b, claims['key'], 'text' or \"text\", " +
  "terms joined with +, and for groups a claims path holding a list of strings or a list like ['ci', 'dev']";

export class ClaimExpressionError extends Error {
  constructor(text: string, problem: string) {
    super(`claim mapping ${JSON.stringify(text)}: ${problem}; ${SUPPORTED_FORMS}`);
    this.name = 'ClaimExpressionError';
  }
}

/** Parses `text`; throws ClaimExpressionError naming the expression and the supported forms. */
export function parseClaimExpression(text: string): ClaimExpression {
  const terms: ClaimNode[] = [];
  let i = 0;
  const fail = (problem: string): never => {
    throw new ClaimExpressionError(text, problem);
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const readString = (): string => {
    const quote = text[i]!;
    i++;
    let value = '';
    while (i < text.length && text[i] !== quote) {
      if (text[i] === '\\') {
        const next = text[i + 1];
        if (next === undefined || !`'"\\`.includes(next)) fail(`unsupported escape at position ${i + 1}`);
        value += next;
        i += 2;
      } else {
        value += text[i];
        i++;
      }
    }
    if (i >= text.length) fail(`string starting at position ${text.lastIndexOf(quote, i - 1) + 1} is not closed`);
    i++;
    return value;
  };
  const readIdent = (): string => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) return fail(`expected a name at position ${i + 1}`);
    i += m[0].length;
    return m[0];
  };
  const readTerm = (): ClaimNode => {
    skipSpace();
    const c = text[i];
    if (c === undefined) return fail('ends where a term was expected');
    if (c === "'" || c === '"') return { kind: 'string', value: readString() };
    if (c === '[') {
      i++;
      const items: string[] = [];
      skipSpace();
      while (text[i] !== ']') {
        skipSpace();
        if (text[i] !== "'" && text[i] !== '"') fail(`a list may hold only quoted strings (position ${i + 1})`);
        items.push(readString());
        skipSpace();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail(`expected , or ] at position ${i + 1}`);
        skipSpace();
      }
      i++;
      return { kind: 'list', items };
    }
    const root = readIdent();
    if (root !== 'claims') fail(`${root} is not supported (only claims.… paths; vars and functions are not)`);
    const path: string[] = [];
    for (;;) {
      if (text[i] === '.') {
        i++;
        path.push(readIdent());
      } else if (text[i] === '[') {
        i++;
        skipSpace();
        if (text[i] !== "'" && text[i] !== '"') fail(`claims[…] takes a quoted key (position ${i + 1})`);
        path.push(readString());
        skipSpace();
        if (text[i] !== ']') fail(`expected ] at position ${i + 1}`);
        i++;
      } else break;
    }
    if (text[i] === '(') fail(`function calls are not supported (position ${i + 1})`);
    if (path.length === 0) fail('claims alone is the whole claim set, not a value');
    return { kind: 'claim', path };
  };

  if (text.trim() === '') fail('is empty');
  for (;;) {
    terms.push(readTerm());
    skipSpace();
    if (i >= text.length) break;
    if (text[i] !== '+') fail(`${JSON.stringify(text.slice(i, i + 12))} at position ${i + 1} is not supported`);
    i++;
  }
  if (terms.length > 1 && terms.some((t) => t.kind === 'list')) fail('a list cannot be joined with +');
  return { text, terms };
}

/** A claim by path; undefined when any step is missing. */
function lookup(claims: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function describePath(path: readonly string[]): string {
  return `claims.${path.join('.')}`;
}

/** The string `expression` yields for `claims`; throws Error naming the missing or non-string claim. */
export function evaluateString(expression: ClaimExpression, claims: Record<string, unknown>): string {
  let out = '';
  for (const term of expression.terms) {
    if (term.kind === 'string') out += term.value;
    else if (term.kind === 'list') throw new Error(`${expression.text} yields a list, not a user name`);
    else {
      const value = lookup(claims, term.path);
      if (value === undefined) throw new Error(`the token has no ${describePath(term.path)}`);
      if (typeof value !== 'string') throw new Error(`${describePath(term.path)} is a ${Array.isArray(value) ? 'list' : typeof value}, not a string`);
      out += value;
    }
  }
  return out;
}

/** The groups `expression` yields: a list of strings; a missing claim is no groups. */
export function evaluateGroups(expression: ClaimExpression, claims: Record<string, unknown>): string[] {
  if (expression.terms.length === 1) {
    const term = expression.terms[0]!;
    if (term.kind === 'list') return [...term.items];
    if (term.kind === 'claim') {
      const value = lookup(claims, term.path);
      if (value === undefined || value === null) return [];
      if (Array.isArray(value)) {
        if (!value.every((v) => typeof v === 'string')) throw new Error(`${describePath(term.path)} holds something other than strings`);
        return value as string[];
      }
      if (typeof value === 'string') return [value];
      throw new Error(`${describePath(term.path)} is a ${typeof value}, not a list of groups`);
    }
  }
  // A string expression (literal or joined) names one group.
  return [evaluateString(expression, claims)];
}

/** The expression that reads one claim by name (an openid provider's claimMapping is a claim name, not CEL). */
export function claimNamed(name: string): ClaimExpression {
  return { text: name, terms: [{ kind: 'claim', path: [name] }] };
}
