/**
 * What a server process costs, read from /proc: resident memory (VmRSS, sampled while a
 * scenario runs) and CPU time (utime + stime, before and after a run). CPU seconds per run
 * are steadier than wall time on a shared machine, so the report shows them too. Also finds
 * a child process by its arguments (the SeaweedFS that test/helpers/seaweed.ts starts).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux the project runs on

/** Resident set size in bytes, or NaN once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it are space separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** The CPU seconds of several processes (a server's replicas) together. */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** The pid of this process's child whose command line has the argument `arg`, if any. */
export function childWithArgument(arg: string): number | undefined {
  for (const entry of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(arg)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Samples a process's RSS every `everyMs` until stopped; keeps the maximum. */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  maxBytes = 0;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 20,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxBytes;
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss > this.maxBytes) this.maxBytes = rss;
  }
}
