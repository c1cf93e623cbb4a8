/**
 * The registry the black-box suites (conformance, clients) aim at: the bundled perch server by
 * default, or distribution's registry when PERCH_TEST_REGISTRY=distribution. The second is for
 * telling a test or client problem from a perch problem; distribution 2.8 predates OCI 1.1, so
 * it fails the referrers and sha512 parts of the conformance suite by design.
 */
import { beforeEach } from 'vitest';
import { startRegistry, type StartOptions } from './registry';
import { startDistributionRegistry } from './distribution-registry';

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

export async function startRegistryUnderTest(options: Pick<StartOptions, 'address' | 'config'> = {}): Promise<RegistryUnderTest> {
  if (registryUnderTestName() === 'distribution') {
    const peer = await startDistributionRegistry({ address: options.address });
    return { name: 'distribution', host: peer.host, url: peer.url, logs: peer.logs, stop: peer.stop };
  }
  const perch = await startRegistry(options);
  return {
    name: 'perch',
    host: perch.host,
    url: perch.url,
    logs: perch.logs,
    stop: async () => {
      await perch.stop();
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
