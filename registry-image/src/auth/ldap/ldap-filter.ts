/**
 * The user search filter. Every character of a value that means something in a filter is
 * written as a backslash and two hex digits (RFC 4515 section 3: `*`, `(`, `)`, `\` and NUL),
 * so a user name such as `*` or `admin)(uid=*` is looked up literally, never as a pattern or
 * as a second condition. Everything else, UTF-8 included, is valid as it is.
 */

const SPECIAL = /[*()\\\u0000]/g;

export function escapeFilterValue(value: string): string {
  return value.replace(SPECIAL, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An attribute description as RFC 4512 section 2.5 allows: a name (with options) or an OID. */
const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)(?:;[A-Za-z0-9-]+)*$/;

export function isAttributeDescription(name: string): boolean {
  return ATTRIBUTE.test(name);
}

/**
 * `(&(<attribute>=<escaped user>)<extra>)`, or just the first part without an extra filter.
 * The extra filter is the operator's (zot's userFilter, e.g. "(!(nsaccountlock=TRUE))") and is
 * used as written; one given without its outer parentheses gets them.
 */
export function userSearchFilter(attribute: string, user: string, extra?: string): string {
  const match = `(${attribute}=${escapeFilterValue(user)})`;
  const more = extra?.trim();
  if (!more) return match;
  return `(&${match}${more.startsWith('(') ? more : `(${more})`})`;
}
