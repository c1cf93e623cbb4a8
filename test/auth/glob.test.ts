/**
 * Repository globs must mean what they mean in zot, which matches them with doublestar v4.
 * The expectations are doublestar's own (bmatcuk/doublestar doublestar_test.go, matchTests),
 * restricted to the cases that can occur with repository names, plus zot-style keys.
 */
import { describe, expect, it } from 'vitest';
import { compileGlob, globMatch } from '../../registry-image/src/oci/repository-glob';

const CASES: Array<[pattern: string, name: string, matches: boolean]> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*', '', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a[!a]b', 'axb', true],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[x-]', '-', true],
  ['[-x]', 'x', true],
  ['[a-b-d]', '-', true],
  ['[a-b-d]', 'c', false],
  ['*x', 'xxx', true],
  ['**', '', true],
  ['**', 'a/b/c', true],
  ['a/**', 'a', true],
  ['a/**', 'a/b', true],
  ['a/**', 'a/b/c', true],
  ['**/c', 'c', true],
  ['**/c', 'b/c', true],
  ['**/c', 'a/b/c', true],
  ['**/c', 'a/b', false],
  ['**/c', 'abcd', false],
  ['**/c', 'a/abc', false],
  ['a/**/b', 'a/b', true],
  ['a/**/c', 'a/b/c', true],
  ['a/**/d', 'a/b/c/d', true],
  ['a/\\**', 'a/b/c', false],
  ['ab{c,d}', 'abc', true],
  ['ab{c,d,*}', 'abcde', true],
  ['a{,bc}', 'a', true],
  ['a{,bc}', 'abc', true],
  ['a/{b/c,c/b}', 'a/c/b', true],
  ['{a/{b,c},abc}', 'a/c', true],
  ['{a/{b,c},abc}', 'abc', true],
  ['{a/{b,c},abc}', 'a/b/c', false],
  ['abc/**', 'abc/b', true],
  ['**/abc', 'abc', true],
  ['abc**', 'abc/b', false],
  ['**/{a,b}', 'a/b', true],
  ['a/*/*/d', 'a/b/c/d', true],
  // zot-style keys
  ['roost-test/**', 'roost-test/nginx-test', true],
  ['roost-test/*', 'roost-test/a/b', false],
  ['tmp/**', 'tmpx/a', false],
  ['infra/*', 'infra/a.b-c_d', true],
];

describe('compileGlob (doublestar semantics)', () => {
  it.each(CASES)('%s vs %s -> %s', (pattern, name, matches) => {
    expect(globMatch(pattern, name)).toBe(matches);
  });

  it.each(['[', 'a[', '[^bc', '\\', '[]a]', 'a{b'])('refuses the bad pattern %s', (pattern) => {
    expect(() => compileGlob(pattern)).toThrow();
  });
});
