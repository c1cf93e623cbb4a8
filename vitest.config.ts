import { defineConfig } from 'vitest/config';

// One vitest run for the whole repository. Suites that start real processes (clients,
// conformance, containers) live in their own folders under test/ and are bounded by their
// own timeouts; see README "Tests".
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['registry-image/src/**/*.ts', 'components/**/*.ts', 'index.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'test/artifacts/coverage',
    },
  },
});
