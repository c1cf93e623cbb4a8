import { defineConfig } from 'vitest/config';

// One vitest run for the whole repository (`npm test` runs it through scripts/test.sh; see
// docs/testing.md). Suites that start real processes (clients, conformance, containers) live
// in their own folders under test/ and are bounded by their own timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Child processes (the bundled server, Go clients) and real ports: processes, not threads,
    // so a crashing suite cannot take the others with it.
    pool: 'forks',
    coverage: {
      // vitest's V8 provider, extended to map the bundled server's child-process coverage
      // back to registry-image/src through the bundle's source map (see the file's header).
      provider: 'custom',
      customProviderModule: './test/helpers/child-aware-coverage.mjs',
      // Children inherit NODE_V8_COVERAGE, so `node dist/perch.js serve` started by a suite
      // reports what it ran when it exits.
      autoAttachSubprocess: true,
      // The bundle maps to node_modules too; keep only our own sources after remapping.
      excludeAfterRemap: true,
      include: ['registry-image/src/**/*.ts', 'components/**/*.ts', 'index.ts'],
      exclude: ['**/*.d.ts'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportsDirectory: 'test/artifacts/coverage',
      // A failing test must not hide the coverage map of everything else.
      reportOnFailure: true,
    },
  },
});
