/**
 * One soak run: start the server (server.ts), seed every repository with its pinned image,
 * then `concurrency` workers run operations drawn from the mix (workload.ts) until the time
 * is up or the request budget is spent. Meanwhile the server's RSS and open descriptors are
 * sampled every `sampleSeconds`; after `warmupSeconds` and at the end the workers pause, our
 * connections close and the server settles, so those two samples compare like with like: the
 * growth between them is what the soak judges (bounds.ts). Last, with nothing else going on,
 * every tag the model holds is pulled back whole, and the server is stopped with SIGTERM.
 *
 * Used by `npm run soak` (main.ts) and by the 2-minute test (soak.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { RequestCounter, SoakClient } from './http';
import { ImageFactory } from './images';
import { PINNED_TAG, RepoModel } from './model';
import { pushImage, type PushContext } from './registry-ops';
import { Rng } from './rng';
import { Sampler, type Sample } from './sampler';
import { DEFAULT_GC, PUBLIC_PREFIX, PUSHER, READER, startSoakServer, type GcTimings, type LogStats } from './server';
import { finalCheck, OPERATIONS, type Clients, type OpRun, type Workload } from './workload';

export interface SoakOptions {
  minutes: number;
  /** Workers running operations at once. */
  concurrency: number;
  /** The run stops starting operations once this many requests were sent (operations in flight finish). */
  maxRequests: number;
  /** The quiet sample after this long is the level growth is measured from. */
  warmupSeconds: number;
  sampleSeconds: number;
  seed: number;
  /** Folder for the server's data, config and htpasswd file (the caller removes it). */
  dir: string;
  gc?: GcTimings;
  /** A copy of the server's log, without the lines of requests answered below 500. */
  logFile?: string;
  /** Called with a line at every sample and phase. */
  progress?: (line: string) => void;
  /** Aborting ends the run early (it still pauses, samples, checks and reports). */
  signal?: AbortSignal;
}

export interface OpStats {
  durationsMs: number[];
  errors: number;
}

export interface ErrorRecord {
  op: string;
  atS: number;
  message: string;
}

export interface SoakResult {
  options: SoakOptions;
  gc: GcTimings;
  nodeArgs: string[];
  /** Seconds the workload ran. */
  ranS: number;
  stoppedBy: 'time' | 'requests' | 'abort' | 'server exit';
  requests: number;
  ops: Map<string, OpStats>;
  /** Every unexpected answer, digest mismatch or failed request (the first 50 kept in full). */
  errorCount: number;
  errors: ErrorRecord[];
  /** Refusals and 404s the model expected, by kind. */
  expected: Map<string, number>;
  samples: Sample[];
  warmup?: Sample;
  end?: Sample;
  log: LogStats;
  serverExit: string;
}

/** Repositories of the soak: public ones anonymous callers may read, team ones only the users. */
const REPOSITORIES = [`${PUBLIC_PREFIX}app`, `${PUBLIC_PREFIX}tools`, 'team/api', 'team/web', 'team/db'];
/** gcDelay less this is how long the model counts on an untagged manifest or refreshed blob staying. */
const GRACE_MARGIN_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const gc = options.gc ?? DEFAULT_GC;
  const progress = options.progress ?? (() => {});
  const server = await startSoakServer({ dir: options.dir, gc, logFile: options.logFile });
  progress(`perch pid ${server.pid} on ${server.url}: gcInterval ${gc.gcIntervalMs / 1000} s, gcDelay ${gc.gcDelayMs / 1000} s, uploadTTL ${gc.uploadTtlMs / 1000} s`);
  const counter = new RequestCounter();
  const client = (who: string, login?: { username: string; password: string }) => new SoakClient(server.url, who, counter, options.concurrency, login);
  const clients: Clients = {
    anonymous: client('anonymous'),
    reader: client('reader', READER),
    pusher: client('pusher', PUSHER),
    wrongPassword: client('wrong password', { username: READER.username, password: 'not-the-password' }),
  };
  const allClients = Object.values(clients) as SoakClient[];
  const result: SoakResult = {
    options,
    gc,
    nodeArgs: server.nodeArgs,
    ranS: 0,
    stoppedBy: 'time',
    requests: 0,
    ops: new Map(),
    errorCount: 0,
    errors: [],
    expected: new Map(),
    samples: [],
    log: server.log,
    serverExit: '',
  };
  let t0 = performance.now();
  let sampler: Sampler | undefined;
  const recordError = (op: string, err: unknown) => {
    result.errorCount++;
    const stats = result.ops.get(op) ?? { durationsMs: [], errors: 0 };
    stats.errors++;
    result.ops.set(op, stats);
    if (result.errors.length < 50) result.errors.push({ op, atS: (performance.now() - t0) / 1000, message: err instanceof Error ? err.message : String(err) });
  };

  try {
    const rng = new Rng(options.seed);
    const images = new ImageFactory(randomBytes(4).toString('hex'), rng);
    const repos = REPOSITORIES.map((name) => new RepoModel(name, name.startsWith(PUBLIC_PREFIX)));
    // Every pinned image holds the first two base layers: a mount of those from any
    // repository must succeed.
    const pinnedBases = images.baseLayers.slice(0, 2);
    const surely = new Set(pinnedBases.map((b) => b.digest));
    let ids = 0;
    const pushContext: PushContext = {
      rng,
      graceMs: gc.gcDelayMs - GRACE_MARGIN_MS,
      mountSources: (exclude) => repos.filter((r) => r.name !== exclude && r.pinnedDigest).map((r) => ({ repo: r.name, surely })),
      expected: (what) => result.expected.set(what, (result.expected.get(what) ?? 0) + 1),
    };
    const w: Workload = { ...pushContext, repos, images, clients, gc, nextId: () => ++ids, abandoned: [] };

    // Seed: the pinned tag (never moved or deleted, so every repository always exists) and two more tags.
    for (const repo of repos) {
      for (const tag of [PINNED_TAG, `t${w.nextId()}`, `t${w.nextId()}`]) {
        const image = tag === PINNED_TAG ? images.next(pinnedBases) : images.next();
        repo.beginTagChange(tag);
        const sent = await pushImage(w, clients.pusher, repo.name, image, tag);
        if (sent === null) throw new Error(`seeding ${repo.name}:${tag} failed`);
        repo.tags.set(tag, image.digest);
        repo.recordPut(image, sent);
        repo.endTagChange(tag);
        if (tag === PINNED_TAG) repo.pinnedDigest = image.digest;
      }
    }

    // --- the workload --------------------------------------------------------------------
    t0 = performance.now();
    const startMs = Date.now();
    const deadline = startMs + options.minutes * 60_000;
    const stopReason = (): SoakResult['stoppedBy'] | undefined => {
      if (server.exited()) return 'server exit';
      if (options.signal?.aborted) return 'abort';
      if (counter.count >= options.maxRequests) return 'requests';
      if (Date.now() >= deadline) return 'time';
      return undefined;
    };
    const opsDone = () => [...result.ops.values()].reduce((n, s) => n + s.durationsMs.length + s.errors, 0);
    sampler = new Sampler(server.pid, () => counter.count, (s) => {
      const mm = `${Math.floor(s.atS / 60)}:${String(Math.floor(s.atS % 60)).padStart(2, '0')}`;
      progress(`${mm}${s.quiet ? ` (quiet, ${s.quiet})` : ''}  requests ${counter.count}  operations ${opsDone()}  errors ${result.errorCount}  RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MiB  fds ${s.fds}  gc runs ${server.log.gcRuns}`);
    });
    sampler.start(options.sampleSeconds * 1000);

    let inflight = 0;
    const drained: Array<() => void> = [];
    /** Set while the workers are paused for a quiet sample. */
    let pause: Promise<void> | undefined;
    let skipsInARow = 0;
    const runOne = async () => {
      const op = rng.weighted(OPERATIONS);
      const run: OpRun = { name: '' };
      const started = performance.now();
      try {
        if (!(await op(w, run))) {
          // Whatever it needed was locked: let the others move on before trying again.
          if (++skipsInARow > 20) await sleep(5);
          return;
        }
        skipsInARow = 0;
        const stats = result.ops.get(run.name) ?? { durationsMs: [], errors: 0 };
        stats.durationsMs.push(performance.now() - started);
        result.ops.set(run.name, stats);
      } catch (err) {
        recordError(run.name || '(before its first request)', err);
      }
    };
    const worker = async () => {
      for (;;) {
        while (pause) await pause;
        if (stopReason()) return;
        inflight++;
        try {
          await runOne();
        } finally {
          if (--inflight === 0) for (const done of drained.splice(0)) done();
        }
      }
    };
    /** Pauses the workers, waits for the operations in flight, closes our connections, samples. */
    const quietSample = async (which: 'warm-up' | 'end'): Promise<Sample> => {
      if (inflight > 0) await new Promise<void>((resolveDrain) => drained.push(resolveDrain));
      for (const c of allClients) c.closeIdle();
      return sampler!.settleAndTake(which);
    };

    const workers = Array.from({ length: options.concurrency }, worker);
    const warmupMs = Math.min(options.warmupSeconds * 1000, (deadline - startMs) / 2);
    while (!stopReason() && Date.now() < startMs + warmupMs) await sleep(100);
    if (!stopReason()) {
      let resume!: () => void;
      pause = new Promise<void>((r) => (resume = r));
      result.warmup = await quietSample('warm-up');
      pause = undefined;
      resume();
    }
    await Promise.all(workers);
    result.stoppedBy = stopReason() ?? 'time';
    result.ranS = (performance.now() - t0) / 1000;
    result.requests = counter.count;
    result.end = await quietSample('end');
    sampler.stop();
    result.samples = sampler.samples;

    // --- after the run: every tag pulls back whole, every list is exact ------------------
    if (!server.exited()) {
      progress('final check: every tag the model holds, pulled back whole');
      const started = performance.now();
      const problems = await finalCheck(w);
      for (const p of problems) recordError('final check', p);
      const stats = result.ops.get('final check') ?? { durationsMs: [], errors: 0 };
      if (!problems.length) stats.durationsMs.push(performance.now() - started);
      result.ops.set('final check', stats);
    }
  } finally {
    sampler?.stop();
    for (const c of allClients) c.close();
    const exitedBefore = server.exited();
    const code = await server.stop();
    result.serverExit = exitedBefore ? `exited on its own during the run (${exitedBefore})` : `stopped with SIGTERM, exit code ${code}`;
    if (exitedBefore || code !== 0) recordError('server', new Error(`perch ${result.serverExit}; last log lines:\n${server.log.tail.slice(-10).join('\n')}`));
  }
  return result;
}
