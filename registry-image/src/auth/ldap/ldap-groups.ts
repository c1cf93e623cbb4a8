/**
 * Group names from the values of the user's group attribute (memberOf). A value that is a DN
 * ("cn=Developers,ou=Groups,dc=example,dc=org") gives two names: its first RDN's CN
 * ("Developers") and the whole DN as the server wrote it; any other value ("developers", as
 * some servers store plain names) is one name. So http.accessControl can name a group either
 * way, as zot's examples/config-ldap.json does with "developers" and
 * "cn=ldap-group,ou=Groups,dc=example,dc=org". The chain lowercases both (authenticator.ts),
 * and a DN is matched as written: "cn=x, ou=Groups" with a space is another name.
 *
 * DN escapes (RFC 4514 section 2.4: `\,`, `\+`, `\\` and `\XX` hex bytes of UTF-8) are
 * undone in the CN, so "cn=R\2C D,ou=Groups" is the group "R, D".
 */

export function groupNames(values: readonly string[]): string[] {
  const names = new Set<string>();
  for (const value of values) {
    const v = value.trim();
    if (v === '') continue;
    const cn = firstCn(v);
    if (cn !== undefined && cn !== '') names.add(cn);
    names.add(v);
  }
  return [...names];
}

/** The CN of a DN's first RDN; undefined when the value is not a DN or its first RDN has no CN. */
export function firstCn(dn: string): string | undefined {
  if (!/^\s*[A-Za-z][A-Za-z0-9-]*\s*=|^\s*\d+(?:\.\d+)*\s*=/.test(dn)) return undefined;
  // Split the first RDN into its attribute=value parts at unescaped "+", stopping at an unescaped ",".
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[i + 1];
      i++;
    } else if (c === ',' || c === ';') {
      break;
    } else if (c === '+') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    if (part.slice(0, eq).trim().toLowerCase() !== 'cn') continue;
    const raw = part.slice(eq + 1).trim();
    // "#04..." is a BER-encoded value (RFC 4514 section 2.4); not a name anyone writes in a policy.
    if (raw.startsWith('#')) return undefined;
    return unescapeDnValue(raw);
  }
  return undefined;
}

function unescapeDnValue(raw: string): string {
  const chars = Array.from(raw); // code points, so a character outside the BMP stays whole
  const bytes: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const hex = chars[i] === '\\' ? `${chars[i + 1] ?? ''}${chars[i + 2] ?? ''}` : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (chars[i] === '\\' && i + 1 < chars.length) {
      bytes.push(...Buffer.from(chars[i + 1], 'utf8'));
      i += 1;
    } else {
      bytes.push(...Buffer.from(chars[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
