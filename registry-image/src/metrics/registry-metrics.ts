/**
 * The registry's Prometheus metrics, in a private prom-client Registry (never the global one,
 * so two registries in one process, as tests make, keep their own counts).
 *
 * Requests are counted by an observer the server calls when each response is over
 * (http/hooks.ts), also when the client went away first (status "499" if nothing was sent
 * yet, as nginx logs it); the route label is the route table's name, never the path, so a client
 * cannot create series by inventing URLs, and unknown methods are counted as "OTHER".
 *
 * A blob upload is counted when its last request answers 201: PUT on an upload session, or a
 * monolithic POST with ?digest= and a body. A POST with ?mount= and no body is a cross-
 * repository mount, not an upload. Its bytes are the finished blob's size (read from the
 * store after the answer; a scrape waits for those reads), counted again when a client
 * uploads content the registry already had, since the client did send it.
 *
 * Storage bytes come from the usage totals the handlers and GC keep (quota/usage.ts), read at
 * scrape time; garbage collection runs come from the GC scheduler's history, or from
 * recordGcRun for a collector run elsewhere.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GcReport } from '../gc/report';
import type { RequestEvent, RequestObserver } from '../http/hooks';
import { queryOf } from '../http/respond';
import type { Logger } from '../log';
import { usageSnapshot } from '../quota/usage';
import type { Store } from '../storage/types';

/** Where finished GC runs can be read (the GC scheduler's `history`, newest last). */
export interface GcHistory {
  readonly history: readonly GcReport[];
}

export interface MetricsSources {
  /** For upload sizes and storage bytes per repository. */
  store?: Store;
  gc?: GcHistory;
  log?: Logger;
  version?: string;
  /** prom-client's process_* and nodejs_* metrics; default true. */
  processMetrics?: boolean;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** prom-client's defaults, extended for blob transfers that take minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class RegistryMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly inFlight: Gauge;
  private readonly uploads: Counter;
  private readonly uploadBytes: Counter;
  private readonly gcRuns: Counter;
  private readonly gcBytesFreed: Counter;
  private readonly gcBlobsRemoved: Counter;
  private readonly gcManifestsRemoved: Counter;
  private readonly gcLastRun: Gauge;
  private readonly gcLastDuration: Gauge;
  private readonly gcSeen = new WeakSet<GcReport>();
  /** Upload sizes still being read from the store; a scrape waits for them. */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly sources: MetricsSources = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'registry_http_requests_total',
      help: 'HTTP requests answered, by method, route name and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'registry_http_request_duration_seconds',
      help: 'Time from a request\'s arrival to the end of its response, by method, route name and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({ name: 'registry_http_in_flight_requests', help: 'Requests being answered now.', registers });
    this.uploads = new Counter({ name: 'registry_storage_blob_upload_total', help: 'Blob uploads completed (201 Created).', registers });
    this.uploadBytes = new Counter({ name: 'registry_storage_blob_upload_bytes_total', help: 'Bytes of the blobs whose uploads completed.', registers });
    this.gcRuns = new Counter({ name: 'registry_gc_runs_total', help: 'Garbage collection runs finished.', registers });
    this.gcBytesFreed = new Counter({ name: 'registry_gc_bytes_freed_total', help: 'Bytes freed by garbage collection (blobs and abandoned uploads).', registers });
    this.gcBlobsRemoved = new Counter({ name: 'registry_gc_blobs_removed_total', help: 'Blobs removed by garbage collection.', registers });
    this.gcManifestsRemoved = new Counter({ name: 'registry_gc_manifests_removed_total', help: 'Manifests removed by garbage collection (untagged or by retention).', registers });
    this.gcLastRun = new Gauge({ name: 'registry_gc_last_run_timestamp_seconds', help: 'When the last garbage collection run finished (Unix time).', registers });
    this.gcLastDuration = new Gauge({ name: 'registry_gc_last_run_duration_seconds', help: 'How long the last garbage collection run took.', registers });
    if (sources.store) this.storageGauges(sources.store);
    new Gauge({
      name: 'registry_build_info',
      help: 'Always 1; the version label says which perch answers.',
      labelNames: ['version'] as const,
      registers,
    }).set({ version: sources.version ?? 'unknown' }, 1);
    if (sources.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  requestStarted(): void {
    this.inFlight.inc();
  }

  requestFinished(event: RequestEvent): void {
    this.inFlight.dec();
    // A client that left before any answer was sent gets nginx's 499 ("client closed request"),
    // not the 200 a response object starts with.
    const status = event.res.headersSent ? String(event.status) : '499';
    const labels = { method: METHODS.has(event.method) ? event.method : 'OTHER', route: event.route, status };
    this.requests.inc(labels);
    this.duration.observe(labels, event.durationSeconds);
    const digest = event.completed ? uploadedDigest(event) : undefined;
    if (digest !== undefined) this.countUpload(digest);
  }

  /** Counts a finished collection (idempotent per report object; dry runs are not counted). */
  recordGcRun(report: GcReport): void {
    if (report.dryRun || this.gcSeen.has(report)) return;
    this.gcSeen.add(report);
    this.gcRuns.inc();
    this.gcBytesFreed.inc(report.bytesFreed);
    this.gcBlobsRemoved.inc(report.blobsRemoved);
    this.gcManifestsRemoved.inc(report.manifestsRemoved);
    this.gcLastRun.set((report.startedMs + report.durationMs) / 1000);
    this.gcLastDuration.set(report.durationMs / 1000);
  }

  /** The exposition text and its Content-Type. */
  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.pending);
    for (const report of this.sources.gc?.history ?? []) this.recordGcRun(report);
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private countUpload(digest: string): void {
    this.uploads.inc();
    const store = this.sources.store;
    if (!store) return;
    const read: Promise<void> = store
      .statBlob(digest)
      .then((stat) => {
        if (stat) this.uploadBytes.inc(stat.size);
      })
      .catch((err) => this.sources.log?.warn('metrics: cannot read an uploaded blob\'s size', { digest, error: String(err) }))
      .finally(() => this.pending.delete(read));
    this.pending.add(read);
  }

  private storageGauges(store: Store): void {
    const log = this.sources.log;
    const registers = [this.registry];
    // The first scrape loads the totals (one scan of the store) unless the handlers or GC have
    // already; afterwards they are kept in memory and a scrape only copies them. Concurrent
    // callers share the one load.
    const current = () =>
      usageSnapshot(store).catch((err) => {
        log?.warn('metrics: storage usage cannot be read', { error: String(err) });
        return undefined;
      });
    new Gauge({
      name: 'registry_storage_bytes',
      help: 'Bytes of all stored content (blobs and manifests), each counted once however many repositories hold it.',
      registers,
      async collect() {
        const usage = await current();
        if (usage) this.set(usage.totalBytes);
      },
    });
    new Gauge({
      name: 'registry_storage_repositories',
      help: 'Repositories holding content.',
      registers,
      async collect() {
        const usage = await current();
        if (usage) this.set(usage.repositoryCount);
      },
    });
    new Gauge({
      name: 'registry_storage_repository_bytes',
      help: 'Bytes of the blobs and manifests each repository holds (a blob shared by two repositories counts in both).',
      labelNames: ['repository'] as const,
      registers,
      async collect() {
        const usage = await current();
        if (!usage) return;
        this.reset();
        for (const repository of usage.repositories) this.set({ repository: repository.name }, repository.bytes);
      },
    });
  }
}

/**
 * The digest of the blob whose upload this request completed, if it completed one: the
 * request's `?digest=`, which a 201 confirms (the response's headers are not kept to read
 * back: they go out in one writeHead, http/respond.ts).
 */
function uploadedDigest(event: RequestEvent): string | undefined {
  if (event.status !== 201) return undefined;
  const isFinish = event.route === 'upload' && event.method === 'PUT';
  const isPost = event.route === 'uploads' && event.method === 'POST';
  if (!isFinish && !isPost) return undefined;
  const query = queryOf(event.req);
  if (isPost && !isMonolithicPost(event, query)) return undefined;
  return query.get('digest') ?? undefined;
}

function isMonolithicPost(event: RequestEvent, query: URLSearchParams): boolean {
  if (!query.has('digest')) return false;
  if (!query.has('mount')) return true;
  // ?mount= with ?digest=: a 201 is either the mount or the monolithic push it fell back to;
  // only the push has a body.
  const length = event.req.headers['content-length'];
  return (length !== undefined && length !== '0') || event.req.headers['transfer-encoding'] !== undefined;
}
