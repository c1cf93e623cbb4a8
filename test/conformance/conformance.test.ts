/**
 * The OCI distribution-spec conformance suite (a Go program nobody here wrote) against the
 * bundled server, exactly as the image runs it, with the extensions on: the browse UI, metrics,
 * supply-chain trust (cosign) and the S3 API on its own listener, so none of them may change
 * what the OCI API answers. Done means: no failure, no error, no skip.
 * The suite's junit.xml and report.html stay in test/artifacts/conformance/<registry>/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../helpers/conformance';
import { startRegistryUnderTest, type RegistryUnderTest } from '../helpers/registry-under-test';

const EXTENSIONS_ON = {
  extensions: { ui: { enable: true }, metrics: { enable: true }, trust: { enable: true, cosign: true } },
  perch: { s3api: { enable: true, port: 0 } },
};

describe('OCI distribution-spec 1.1 conformance suite', () => {
  let registry: RegistryUnderTest;
  beforeAll(async () => {
    registry = await startRegistryUnderTest({ config: EXTENSIONS_ON });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('passes every check with no failure, error or skip', async () => {
    const run = await runConformance({ registryHost: registry.host, runName: registry.name });
    // The counts line always; the full list of problems is in the assertion message below.
    console.log(run.summary.split('\n')[0]);
    // A handful of checks would mean the suite stopped early (bad settings, registry gone).
    expect(run.cases.length, run.summary).toBeGreaterThan(100);
    expect(run.cases.find((c) => c.name.endsWith('/ping'))?.status, run.summary).toBe('passed');
    expect(
      { failed: run.counts.failure, errors: run.counts.error, skipped: run.counts.skipped },
      run.summary,
    ).toEqual({ failed: 0, errors: 0, skipped: 0 });
    expect(run.exitCode, run.summary).toBe(0);
  }, 180_000);

  it('ran with the extensions on (trust routes answer, the S3 listener was up)', async () => {
    if (registry.name !== 'perch') return; // distribution has neither
    const keys = await fetch(`${registry.url}/v2/_zot/ext/cosign`);
    expect(keys.status).toBe(200);
    expect(registry.logs.some((l) => l.includes('"s3api listening"'))).toBe(true);
    expect((await fetch(`${registry.url}/metrics`)).status).toBe(200);
  });
});
