/**
 * zot refuses a config whose repository globs (access control, retention) do not compile
 * (doublestar's ValidatePattern in root.go validateConfiguration); perch refuses the same ones
 * at load time instead of at the first request: an unclosed `[` or `{`, or a trailing `\`.
 */
export function globPatternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'a repository pattern cannot be empty';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i === pattern.length - 1) return 'ends with an unfinished escape "\\"';
      i++;
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2); // "[]]" : a leading "]" is part of the class
      if (close < 0) return 'has a "[" without its closing "]"';
      i = close;
    } else if (c === '{') {
      braces++;
    } else if (c === '}' && braces > 0) {
      braces--;
    }
  }
  return braces > 0 ? 'has a "{" without its closing "}"' : undefined;
}
