/**
 * Waiting for the registry: the seed Jobs start together with the registry's Pod, and
 * scripts/start.sh starts seed right after the server, so the first attempts may find nothing
 * listening. Retries GET /v2/ with doubling pauses (0.25 s up to 5 s) until the deadline.
 */
import { formatDuration } from '../config/duration';
import { SeedError } from './errors';
import type { RegistryClient } from './registry-client';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 5_000;
/** One attempt never waits longer than this for an answer, so a black-holed address still gets retried. */
const ATTEMPT_TIMEOUT_MS = 10_000;

export async function waitForRegistry(
  client: RegistryClient,
  origin: string,
  timeoutMs: number,
  clock: Clock,
  log: (line: string) => void,
): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  let pause = FIRST_PAUSE_MS;
  let said = false;
  for (;;) {
    const left = deadline - clock.now();
    const result = await client.ping(Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, left)));
    if (result.ready) return;
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      throw new SeedError(
        'unreachable',
        `cannot reach the registry at ${origin} (${result.reason}), tried for ${formatDuration(timeoutMs)}. Check that it is running and that --registry names it; to wait longer, raise --timeout`,
      );
    }
    if (!said) {
      log(`waiting for the registry at ${origin} (${result.reason}); giving up after ${formatDuration(timeoutMs)}`);
      said = true;
    }
    await clock.sleep(Math.min(pause, remaining));
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}
