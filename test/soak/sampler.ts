/**
 * The server's resident memory (VmRSS in /proc/<pid>/status, through the benchmark's reader)
 * and open file descriptors (entries of /proc/<pid>/fd), sampled on a timer while the soak
 * runs and on demand at the quiet points (after warm-up, at the end).
 */
import { readdirSync } from 'node:fs';
import { rssBytes } from '../bench/proc';

export interface Sample {
  /** Seconds since the workload started. */
  atS: number;
  rssBytes: number;
  fds: number;
  /** Requests sent so far. */
  requests: number;
  /** Set for the samples taken with the workload paused and our connections closed. */
  quiet?: 'warm-up' | 'end';
}

/** Open descriptors of a process, or NaN once it is gone. */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export class Sampler {
  readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private readonly t0 = performance.now();

  constructor(
    private readonly pid: number,
    private readonly requests: () => number,
    private readonly onSample?: (sample: Sample) => void,
  ) {}

  start(everyMs: number): void {
    this.take();
    this.timer = setInterval(() => this.take(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  take(quiet?: Sample['quiet']): Sample {
    const sample: Sample = {
      atS: (performance.now() - this.t0) / 1000,
      rssBytes: rssBytes(this.pid),
      fds: openFds(this.pid),
      requests: this.requests(),
      ...(quiet ? { quiet } : {}),
    };
    this.samples.push(sample);
    this.onSample?.(sample);
    return sample;
  }

  /**
   * Waits until the descriptor count holds still (the server has closed the sockets we just
   * closed), up to `maxMs`, then takes a quiet sample.
   */
  async settleAndTake(quiet: NonNullable<Sample['quiet']>, maxMs = 5_000): Promise<Sample> {
    const deadline = Date.now() + maxMs;
    let last = openFds(this.pid);
    let steady = 0;
    while (Date.now() < deadline && steady < 5) {
      await new Promise((r) => setTimeout(r, 100));
      const now = openFds(this.pid);
      steady = now === last ? steady + 1 : 0;
      last = now;
    }
    return this.take(quiet);
  }
}
