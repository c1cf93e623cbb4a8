/**
 * The last line of `npm test` is the project's verdict, so the counting behind it is tested:
 * vitest's JSON report (including files that never ran) and the conformance suite's junit.xml
 * (skips fail, disabled checks are only skipped).
 */
import { describe, expect, it } from 'vitest';

const load = () => import('../helpers/summary.mjs');

describe('countVitest', () => {
  it('counts passed, failed, skipped and todo tests', async () => {
    const { countVitest } = await load();
    const report = {
      numPassedTests: 5,
      numFailedTests: 2,
      numPendingTests: 1,
      numTodoTests: 1,
      testResults: [{ name: '/r/test/a.test.ts', status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'passed' }] }],
    };
    expect(countVitest(report)).toEqual({ passed: 5, failed: 2, skipped: 2, brokenFiles: [] });
  });

  it('counts a test file that failed to load (no tests in it) as one failure', async () => {
    const { countVitest } = await load();
    const report = {
      numPassedTests: 3,
      numFailedTests: 0,
      testResults: [
        { name: '/r/test/ok.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] },
        { name: '/r/test/broken.test.ts', status: 'failed', assertionResults: [] },
      ],
    };
    expect(countVitest(report)).toMatchObject({ passed: 3, failed: 1, brokenFiles: ['/r/test/broken.test.ts'] });
  });
});

describe('countJunit', () => {
  // The shape the OCI conformance suite writes (testsuites > testsuite with counts).
  const junit = (attrs: string) =>
    `<testsuites time="6.7" tests="9"><testsuite name="OCI Conformance Test" ${attrs} time="6.7"><testcase name="a" status="passed"></testcase></testsuite></testsuites>`;

  it('passes what is neither failed, errored, skipped nor disabled', async () => {
    const { countJunit } = await load();
    expect(countJunit(junit('tests="862" failures="0" errors="0"'))).toEqual({ passed: 862, failed: 0, skipped: 0 });
  });

  it('fails failures, errors and skips; reports disabled checks as skipped', async () => {
    const { countJunit } = await load();
    expect(countJunit(junit('tests="100" failures="2" errors="1" disabled="4" skipped="3"'))).toEqual({ passed: 90, failed: 6, skipped: 4 });
  });

  it('falls back to the testsuites totals when there is no testsuite element', async () => {
    const { countJunit } = await load();
    expect(countJunit('<testsuites tests="7" failures="1" errors="0"></testsuites>')).toEqual({ passed: 6, failed: 1, skipped: 0 });
  });
});
