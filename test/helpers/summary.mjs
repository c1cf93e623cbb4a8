#!/usr/bin/env node
// Adds up everything `npm test` ran and prints the one line the README promises:
//   N passed, N failed[, N skipped]
// Sources, all optional (a missing one is itself a failure where it should exist):
//   --vitest FILE        vitest's JSON report (jest-compatible: numPassedTests, ...)
//   --vitest-exit CODE   vitest's exit code; non-zero with no failed test in the report
//                        (an unhandled error, a crash) still counts as one failure
//   --junit-root DIR     every junit.xml below DIR modified after --since is an external
//                        suite's result (the OCI conformance suite writes one per run)
//   --since MS           epoch milliseconds when this `npm test` started
//   --check NAME=CODE    a step that is one test of its own (typecheck, build): 0 passes
//   --coverage FILE      vitest's json-summary coverage report, printed as one line
// Exit code: 0 when nothing failed, 1 otherwise.
//
// Conformance counting (agreed with the conformance suite's tests): junit `tests` minus
// failures, errors, skipped and disabled pass; failures, errors and skipped fail (the suite
// reports a feature it finds missing as a skip, and the project promises none); disabled
// (turned off in the suite's configuration on purpose, e.g. OCI_DATA_SPARSE) is skipped.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function parseArgs(argv) {
  const out = { checks: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`summary: ${key} needs a value`);
    switch (key) {
      case '--vitest': out.vitest = value; break;
      case '--vitest-exit': out.vitestExit = Number(value); break;
      case '--junit-root': out.junitRoot = value; break;
      case '--since': out.since = Number(value); break;
      case '--coverage': out.coverage = value; break;
      case '--check': {
        const eq = value.lastIndexOf('=');
        out.checks.push({ name: value.slice(0, eq), code: Number(value.slice(eq + 1)) });
        break;
      }
      default: throw new Error(`summary: unknown option ${key}`);
    }
  }
  return out;
}

/** Counts from vitest's JSON report. A file that failed to load has no tests: it is one failure. */
export function countVitest(report) {
  let failed = report.numFailedTests ?? 0;
  const brokenFiles = [];
  for (const file of report.testResults ?? []) {
    const anyFailedTest = (file.assertionResults ?? []).some((a) => a.status === 'failed');
    if (file.status === 'failed' && !anyFailedTest) {
      failed += 1;
      brokenFiles.push(file.name);
    }
  }
  return {
    passed: report.numPassedTests ?? 0,
    failed,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    brokenFiles,
  };
}

function attr(tag, name) {
  const m = new RegExp(`\\s${name}="(\\d+)"`).exec(tag);
  return m ? Number(m[1]) : 0;
}

/** Counts from one junit.xml: per <testsuite>, or the <testsuites> totals when there is none. */
export function countJunit(xml) {
  const suites = [...xml.matchAll(/<testsuite\s[^>]*>/g)].map((m) => m[0]);
  const tags = suites.length ? suites : [...xml.matchAll(/<testsuites\s[^>]*>/g)].map((m) => m[0]);
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const tag of tags) {
    const tests = attr(tag, 'tests');
    const bad = attr(tag, 'failures') + attr(tag, 'errors') + attr(tag, 'skipped');
    const disabled = attr(tag, 'disabled');
    total.passed += Math.max(0, tests - bad - disabled);
    total.failed += bad;
    total.skipped += disabled;
  }
  return total;
}

function findJunitFiles(root, since) {
  if (!root || !existsSync(root)) return [];
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name === 'junit.xml' && statSync(path).mtimeMs >= (since ?? 0)) found.push(path);
    }
  };
  walk(root);
  return found.sort();
}

function pct(part) {
  return part && typeof part.pct === 'number' ? `${part.pct.toFixed(1)}%` : '-';
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const total = { passed: 0, failed: 0, skipped: 0 };
  const lines = [];
  const add = (label, c) => {
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    lines.push(`  ${label}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`);
  };

  for (const check of opts.checks) {
    if (Number.isNaN(check.code)) continue;
    add(check.name, check.code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 });
  }

  if (opts.vitest) {
    if (existsSync(opts.vitest) && statSync(opts.vitest).mtimeMs >= (opts.since ?? 0)) {
      const c = countVitest(JSON.parse(readFileSync(opts.vitest, 'utf8')));
      if (opts.vitestExit && c.failed === 0) {
        c.failed = 1;
        lines.push(`  vitest exited with code ${opts.vitestExit} without a failed test (an unhandled error or a crash; see its output above)`);
      }
      add('vitest', c);
      for (const f of c.brokenFiles) lines.push(`    failed to run: ${relative(process.cwd(), f)}`);
    } else {
      add('vitest', { passed: 0, failed: 1, skipped: 0 });
      lines.push(`    vitest wrote no report to ${opts.vitest} (exit code ${opts.vitestExit}); see its output above`);
    }
  }

  for (const file of findJunitFiles(opts.junitRoot, opts.since)) {
    add(relative(process.cwd(), file), countJunit(readFileSync(file, 'utf8')));
  }

  if (opts.coverage && existsSync(opts.coverage) && statSync(opts.coverage).mtimeMs >= (opts.since ?? 0)) {
    const t = JSON.parse(readFileSync(opts.coverage, 'utf8')).total ?? {};
    lines.push(`  coverage (in-process + bundled server): statements ${pct(t.statements)}, branches ${pct(t.branches)}, functions ${pct(t.functions)}, lines ${pct(t.lines)}`);
  }

  console.log('\nSummary');
  for (const line of lines) console.log(line);
  console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  return total.failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  }
}
