/**
 * `perch seed` without the command line: pack the selected charts (before touching the
 * network, so a broken chart never leaves a half-seeded registry), wait for the registry,
 * check the credentials, then push each chart in order (see push.ts for what is skipped).
 */
import { chartId, defaultChartsDir, SEED_NAMESPACE, type SeedChartRef } from './catalogue';
import type { SeedOptions } from './args';
import { SEED_ENV } from './args';
import { SeedError } from './errors';
import { helmArtifact, type HelmArtifact } from './helm-artifact';
import { nodeTransport, type Transport } from '../client/http-transport';
import { ChartPacker } from './pack';
import { pushArtifact, type PushOutcome } from './push';
import { RegistryClient } from './registry-client';
import { realClock, waitForRegistry, type Clock } from './wait';

export interface SeedDeps {
  /** The password, when options.password is not "none" (the CLI reads it from stdin or the environment). */
  password?: string;
  /** Default: the charts folder next to the code (see catalogue.ts). */
  chartsDir?: string;
  /** Default: node:http/https. */
  transport?: Transport;
  clock?: Clock;
  /** One line per event, for the user (never holds credentials). */
  log?: (line: string) => void;
}

export interface SeedResult {
  chart: SeedChartRef;
  /** host/roost-test/name:tag */
  reference: string;
  digest: string;
  outcome: PushOutcome;
  previous?: string;
  blobsUploaded: number;
}

/** The artifacts seed would push, without pushing: for tests and for checking digests. */
export function buildArtifacts(charts: readonly SeedChartRef[], chartsDir: string, dependencyRepository: string): HelmArtifact[] {
  const packer = new ChartPacker({ chartsDir, dependencyRepository });
  return charts.map((chart) => {
    try {
      return helmArtifact(packer.pack(chart), SEED_NAMESPACE);
    } catch (err) {
      if (err instanceof SeedError) throw err;
      throw new SeedError('charts', `cannot pack ${chartId(chart)}: ${(err as Error).message}`);
    }
  });
}

export async function seed(options: SeedOptions, deps: SeedDeps = {}): Promise<SeedResult[]> {
  const log = deps.log ?? (() => {});
  let chartsDir: string;
  try {
    chartsDir = deps.chartsDir ?? defaultChartsDir();
  } catch (err) {
    throw new SeedError('charts', (err as Error).message);
  }
  const artifacts = buildArtifacts(options.charts, chartsDir, options.dependencyRepository);

  if (options.password !== 'none' && !deps.password) {
    throw new SeedError('usage', options.password === 'stdin' ? '--password-stdin read an empty password from standard input' : `${SEED_ENV.password} is empty`);
  }
  const credentials = options.username !== undefined && deps.password ? { username: options.username, password: deps.password } : undefined;
  const ownTransport = deps.transport ? undefined : nodeTransport({ insecureTls: options.insecure });
  const client = new RegistryClient({
    endpoint: options.registry,
    credentials,
    transport: deps.transport ?? ownTransport!,
    credentialHint: `pass --username and --password-stdin, or set ${SEED_ENV.username} and ${SEED_ENV.password}`,
  });
  try {
    await waitForRegistry(client, options.registry.origin, options.timeoutMs, deps.clock ?? realClock, log);
    await client.checkCredentials();
    const results: SeedResult[] = [];
    for (const [i, artifact] of artifacts.entries()) {
      const chart = options.charts[i];
      const reference = `${options.registry.host}/${artifact.repository}:${artifact.tag}`;
      const pushed = await pushArtifact(client, artifact);
      const result: SeedResult = { chart, reference, digest: artifact.manifestDigest, ...pushed };
      results.push(result);
      log(describeResult(result));
    }
    return results;
  } finally {
    ownTransport?.close();
  }
}

export function describeResult(result: SeedResult): string {
  switch (result.outcome) {
    case 'present':
      return `${result.reference} already present (${result.digest})`;
    case 'pushed':
      return `${result.reference} pushed ${result.digest} (${result.blobsUploaded} of 2 blobs uploaded)`;
    case 'replaced':
      return `${result.reference} replaced ${result.previous} with ${result.digest} (${result.blobsUploaded} of 2 blobs uploaded)`;
  }
}
