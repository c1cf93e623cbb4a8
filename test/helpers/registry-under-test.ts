/**
 * The registry the black-box suites (conformance, clients) aim at: the bundled perch server by
 * default, or distribution's registry when PERCH_TEST_REGISTRY=distribution. The second is for
 * telling a test or client problem from a perch problem; distribution 2.8 predates OCI 1.1, so
 * it fails the referrers and sha512 parts of the conformance suite by design.
 *
 * perch stores on the filesystem unless `storage` (or PERCH_TEST_STORAGE=s3|gcs|azure) names
 * an object store: then a real one (SeaweedFS, fake-gcs-server, Azurite) starts beside it with
 * a fresh bucket, and stops with it. Any client suite runs on an object store that way.
 */
import { beforeEach } from 'vitest';
import { startRegistry, type StartOptions } from './registry';
import { startDistributionRegistry } from './distribution-registry';
import { OBJECT_DRIVERS, objectBackends, type ObjectDriverName } from './object-backends';

export interface RegistryUnderTest {
  /** "perch" or "distribution" (shown in test names and reports). */
  name: string;
  host: string;
  url: string;
  /** The server's log lines so far (for failure messages). */
  logs: string[];
  stop(): Promise<void>;
}

export function registryUnderTestName(): string {
  const choice = process.env.PERCH_TEST_REGISTRY ?? 'perch';
  if (choice !== 'perch' && choice !== 'distribution') {
    throw new Error(`PERCH_TEST_REGISTRY=${choice} is not known: use "perch" (default) or "distribution"`);
  }
  return choice;
}

/** The object store PERCH_TEST_STORAGE names, or undefined for the filesystem. */
export function storageUnderTest(): ObjectDriverName | undefined {
  const choice = process.env.PERCH_TEST_STORAGE;
  if (!choice || choice === 'filesystem') return undefined;
  if (!(OBJECT_DRIVERS as readonly string[]).includes(choice)) throw new Error(`PERCH_TEST_STORAGE=${choice} is not known: use filesystem (default), ${OBJECT_DRIVERS.join(', ')}`);
  return choice as ObjectDriverName;
}

export async function startRegistryUnderTest(options: Pick<StartOptions, 'address' | 'config'> & { storage?: ObjectDriverName } = {}): Promise<RegistryUnderTest> {
  if (registryUnderTestName() === 'distribution') {
    const peer = await startDistributionRegistry({ address: options.address });
    return { name: 'distribution', host: peer.host, url: peer.url, logs: peer.logs, stop: peer.stop };
  }
  const storage = options.storage ?? storageUnderTest();
  const servers = storage ? objectBackends() : undefined;
  let config = options.config;
  if (storage && servers) {
    const block = await servers.configBlock(storage);
    const given = (config?.storage ?? {}) as Record<string, unknown>;
    config = { ...config, storage: { ...given, storageDriver: block } };
  }
  const perch = await startRegistry({ ...options, config }).catch(async (err) => {
    await servers?.stop();
    throw err;
  });
  return {
    name: storage ? `perch-${storage}` : 'perch',
    host: perch.host,
    url: perch.url,
    logs: perch.logs,
    stop: async () => {
      await perch.stop();
      await servers?.stop();
    },
  };
}

/**
 * When a test in the calling file fails, prints the last lines the registry logged, so a
 * client's "unexpected status 500" comes with the server's side of the story.
 */
export function showRegistryLogsOnFailure(registry: () => RegistryUnderTest | undefined, lines = 40): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      const r = registry();
      if (r) console.error(`--- last ${lines} lines of the ${r.name} log (${r.host}) ---\n${r.logs.slice(-lines).join('\n')}`);
    });
  });
}
