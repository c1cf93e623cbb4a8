/**
 * The OCI conformance suite on each object store (S3 on SeaweedFS, GCS on fake-gcs-server,
 * Azure Blob on Azurite), as conformance.test.ts runs it on the filesystem: no failure, no
 * error, no skip. Reports land in test/artifacts/conformance/perch-<driver>/.
 */
import { describe, expect, it } from 'vitest';
import { runConformance } from '../helpers/conformance';
import { OBJECT_DRIVERS } from '../helpers/object-backends';
import { startRegistryUnderTest } from '../helpers/registry-under-test';

describe.each(OBJECT_DRIVERS)('OCI conformance on the %s driver', (driver) => {
  it('passes every check with no failure, error or skip', async () => {
    const registry = await startRegistryUnderTest({ storage: driver });
    try {
      const run = await runConformance({ registryHost: registry.host, runName: registry.name });
      console.log(`${driver}: ${run.summary.split('\n')[0]}`);
      expect(run.cases.length, run.summary).toBeGreaterThan(100);
      expect({ failed: run.counts.failure, errors: run.counts.error, skipped: run.counts.skipped }, `${run.summary}\n--- registry log ---\n${registry.logs.slice(-30).join('\n')}`).toEqual({ failed: 0, errors: 0, skipped: 0 });
      expect(run.exitCode, run.summary).toBe(0);
    } finally {
      await registry.stop();
    }
  }, 240_000);
});
