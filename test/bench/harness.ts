/**
 * Runs one scenario's measurement on every server, several times, alternating the order
 * (run 1: ours, peer, ceiling; run 2: peer, ceiling, ours; ...) so that neither warm caches
 * nor a neighbour's load favour one server. Each run gets its own content (new digests),
 * identical on every server. Servers live for the whole scenario (warmed up first, then one
 * unmeasured round) unless the scenario asks for a fresh one per run.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSecondsOf } from './proc';
import type { BasicAuthFile, RunningServer, ServerSpec } from './servers/types';

/** One run's figures for one server, by metric name. */
export type Figures = Record<string, number>;

export interface BenchContext {
  workDir: string;
  quick: boolean;
  runs: number;
  servers: ServerSpec[];
  log(message: string): void;
}

export interface RunPlan<Input> {
  /** Scenario id, names the data folders. */
  id: string;
  servers?: PlannedServer[];
  auth?: BasicAuthFile;
  freshServerPerRun?: boolean;
  /** Content for run `run`, built before any clock starts. */
  prepare(run: number): Promise<Input> | Input;
  /** `key` tells variants of one server apart (see PlannedServer). */
  warmup?(server: RunningServer, key: string): Promise<void>;
  measure(server: RunningServer, input: Input, run: number, key: string): Promise<Figures>;
  /** Frees what prepare made once every server has had the run. */
  release?(input: Input): Promise<void> | void;
}

/** Figures per run, by server key (the server's kind, or a variant such as "ours+auth"). */
export type Results = Map<string, Figures[]>;

/** A server spec, possibly a variant of another (same binary, other settings), keyed apart. */
export type PlannedServer = ServerSpec & { key?: string };

export async function runAlternating<Input>(ctx: BenchContext, plan: RunPlan<Input>): Promise<Results> {
  const specs = plan.servers ?? ctx.servers;
  const keyOf = (s: PlannedServer) => s.key ?? s.kind;
  const results: Results = new Map(specs.map((s) => [keyOf(s), []]));
  const live = new Map<string, RunningServer>();
  let dirCount = 0;
  const start = async (spec: PlannedServer) => {
    const dataDir = join(ctx.workDir, `${plan.id}-${keyOf(spec).replace(/\W/g, '_')}-${++dirCount}`);
    mkdirSync(dataDir, { recursive: true });
    const server = await spec.start({ dataDir, auth: plan.auth });
    if (plan.warmup) await plan.warmup(server, keyOf(spec));
    return server;
  };
  const stop = async (server: RunningServer) => {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  };
  try {
    if (!plan.freshServerPerRun) {
      for (const spec of specs) live.set(keyOf(spec), await start(spec));
      // One unmeasured round first, the measured runs' shape on every server: after the
      // warm-ups alone, run 1 was still the slowest for every server (the client used ~40% more
      // CPU in it), and run 1's first server is always perch.
      const input = await plan.prepare(-1);
      for (const spec of specs) await plan.measure(live.get(keyOf(spec))!, input, -1, keyOf(spec));
      await plan.release?.(input);
    }
    for (let run = 0; run < ctx.runs; run++) {
      const input = await plan.prepare(run);
      const order = specs.map((_, i) => specs[(i + run) % specs.length]);
      for (const spec of order) {
        const server = live.get(keyOf(spec)) ?? (await start(spec));
        const cpu0 = cpuSecondsOf(server.pids);
        const client0 = process.cpuUsage();
        const figures = await plan.measure(server, input, run, keyOf(spec));
        figures.serverCpuSeconds = cpuSecondsOf(server.pids) - cpu0;
        // The client's own CPU: if it came near the wall time, the client was the limit.
        const client = process.cpuUsage(client0);
        figures.clientCpuSeconds = (client.user + client.system) / 1e6;
        results.get(keyOf(spec))!.push(figures);
        ctx.log(`  run ${run + 1}/${ctx.runs} ${keyOf(spec).padEnd(12)} ${formatFigures(figures)}`);
        if (plan.freshServerPerRun) await stop(server);
      }
      await plan.release?.(input);
    }
  } finally {
    for (const server of live.values()) await stop(server).catch(() => undefined);
  }
  return results;
}

function formatFigures(f: Figures): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(k.endsWith('Ms') ? 1 : 2)}`)
    .join(' ');
}

