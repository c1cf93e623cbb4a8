/**
 * What the loader says about a config: one problem per key, each naming the key path as the
 * file spells it, what is wrong and what is allowed. All problems of a file are reported at
 * once, so a user fixes them in one go instead of one start-up at a time.
 */

/** A step in a key path: a key as written, or a list index. */
export type PathSegment = string | number;

export interface ConfigProblem {
  /** `http.accessControl.repositories["tmp/**"].policies[0].actions`; empty for the whole file. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The file (or other source) the config came from. */
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map((p) => formatProblem(source, p)).join('\n'));
  }
}

export function formatProblem(source: string, problem: ConfigProblem): string {
  return problem.path ? `${source}: ${problem.path}: ${problem.message}` : `${source}: ${problem.message}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders a key path the way a reader finds it in the file: dots between plain keys, brackets otherwise. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
