/**
 * WWW-Authenticate parsing (RFC 7235 §4.1: `challenge = auth-scheme [ 1*SP ( token68 /
 * #auth-param ) ]`, several challenges comma-separated in one header). Registries send
 *   Basic realm="perch"
 *   Bearer realm="https://host/v2/token",service="host",scope="repository:a:pull,push"
 * The Bearer parameters are the Docker token specification's.
 */

export interface Challenge {
  /** Lower-case: "basic", "bearer". */
  scheme: string;
  /** Parameter names lower-case. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let rest = header;
  let current: Challenge | undefined;
  const skip = (pattern: RegExp) => {
    const m = pattern.exec(rest);
    if (m) rest = rest.slice(m[0].length);
    return m;
  };
  while (rest.length > 0) {
    skip(/^[\s,]+/);
    if (rest.length === 0) break;
    const word = skip(TOKEN);
    if (!word) break; // malformed: keep what was understood
    const afterWord = /^\s*=/.test(rest);
    if (!afterWord || !current) {
      if (afterWord) break; // a parameter before any scheme
      current = { scheme: word[0].toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    skip(/^\s*=\s*/);
    let value: string;
    if (rest.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
      if (!m) break;
      value = m[1].replace(/\\(.)/g, '$1');
      rest = rest.slice(m[0].length);
    } else {
      const m = skip(/^[^\s,]*/);
      value = m ? m[0] : '';
    }
    current.params[word[0].toLowerCase()] = value;
  }
  return out;
}

/** The challenge the Session answers: Bearer if offered (it scopes access), else Basic. */
export function preferredChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}
