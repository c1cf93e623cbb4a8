/**
 * GET /health: a JSON report for people (the probes /livez, /readyz and /startupz are for
 * kubelets and answer in one word). Named checks, each "ok", "warn", "fail" or "off":
 *
 *   storage  the store takes a write now (what /readyz needs); repositories and bytes held
 *   disk     free space on the filesystem under storage.rootDirectory: warn under 10%, fail under
 *            2% and when full (storage-space.ts: under 1 MiB or no inode free, or a push
 *            refused for lack of space with nothing stored since)
 *   auth     the htpasswd file: loaded, when it last changed (perch re-reads it within a second)
 *   gc       the last garbage collection run: when, how long, what it freed; warn when none
 *            finished for two intervals (runs that fail are logged, and never reach history)
 *   tls      the certificate served: where from, its names and fingerprint, days left
 *            (warn under 30, fail once expired)
 *
 * The overall status is the worst check; "fail" answers 503 so `curl -f` and monitors notice.
 * No credentials are needed, so the report names no repository, user, path or secret: counts,
 * times and states only.
 */
import { stat } from 'node:fs/promises';
import type { StatsFs } from 'node:fs';
import { version } from '../../package.json';
import type { GcReport } from '../gc/report';
import type { RequestContext } from '../http/context';
import { sendJson } from '../http/respond';
import type { Route } from '../http/routes';
import { usageSnapshot } from '../quota/usage';
import { isNoSpace } from '../storage/types';
import type { NoSpaceWatch } from './no-space-watch';
import { bytesText, freeSpace, fullness, type FreeSpace } from './storage-space';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'off';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  [detail: string]: unknown;
}

export interface HealthReport {
  status: Exclude<CheckStatus, 'off'>;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  checks: Check[];
}

/** What the report reads besides the registry's parts; all optional. */
export interface HealthSources {
  /** When the process started serving. */
  startedMs: number;
  /** The GC scheduler (its `history`, newest last); absent when GC does not run in this process. */
  gc?: { readonly history: readonly GcReport[] };
  tls?: { source: string; current(): { fingerprint256: string; notAfter: Date; names: string[] }; loadedAt(): Date };
  now?: () => number;
  /** For tests: a filesystem that is nearly full. */
  statfs?: (path: string) => Promise<StatsFs>;
  /** Pushes refused for lack of space (507), watched by perch serve's request observer. */
  space?: Pick<NoSpaceWatch, 'lastRefusal'>;
}

export const HEALTH_ROUTE = 'health';

const DAY_MS = 86_400_000;
const DISK_WARN_PERCENT = 10;
const DISK_FAIL_PERCENT = 2;
const TLS_WARN_DAYS = 30;
const RANK: Record<CheckStatus, number> = { off: 0, ok: 0, warn: 1, fail: 2 };

function errorText(err: unknown): string {
  // The code, not the message: messages carry paths.
  return (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.name ?? 'error';
}

async function storageCheck(ctx: RequestContext): Promise<Check> {
  try {
    await ctx.parts.store.checkWritable();
  } catch (err) {
    if (isNoSpace(err)) return { name: 'storage', status: 'fail', message: `storage is full (${errorText(err)}): pushes are refused (507), pulls are served and /readyz stays ready` };
    return { name: 'storage', status: 'fail', message: `storage is not writable (${errorText(err)}): pushes fail and /readyz answers 503` };
  }
  try {
    const usage = await usageSnapshot(ctx.parts.store);
    return { name: 'storage', status: 'ok', message: 'writable', repositories: usage.repositoryCount, storedBytes: usage.totalBytes };
  } catch (err) {
    return { name: 'storage', status: 'warn', message: `writable, but the usage totals cannot be read (${errorText(err)})` };
  }
}

async function diskCheck(ctx: RequestContext, sources: HealthSources, nowMs: number): Promise<Check> {
  let space: FreeSpace;
  try {
    space = await freeSpace(ctx.parts.config.storage.rootDirectory, sources.statfs);
  } catch (err) {
    return { name: 'disk', status: 'fail', message: `the storage filesystem cannot be examined (${errorText(err)})` };
  }
  const { freeBytes, totalBytes, freeInodes } = space; // freeBytes: what this (unprivileged) process may still use
  const freePercent = totalBytes > 0 ? Math.round((freeBytes / totalBytes) * 1000) / 10 : 0;
  const figures = { freeBytes, totalBytes, freePercent, ...(freeInodes !== undefined ? { freeInodes } : {}) };
  const fix = 'run garbage collection, delete images or grow the volume';
  const refusedMs = sources.space?.lastRefusal(nowMs);
  if (refusedMs !== undefined) {
    const at = new Date(refusedMs).toISOString();
    const message = `full: a push was refused for lack of space at ${at} and nothing has been stored since (${bytesText(freeBytes)} free); pulls are served: ${fix}`;
    return { name: 'disk', status: 'fail', message, full: true, lastRefusedAt: at, ...figures };
  }
  const full = fullness(space);
  if (full) return { name: 'disk', status: 'fail', message: `full: ${full}, pushes are refused (507) and pulls are served: ${fix}`, full: true, ...figures };
  const status: CheckStatus = freePercent < DISK_FAIL_PERCENT ? 'fail' : freePercent < DISK_WARN_PERCENT ? 'warn' : 'ok';
  const message = status === 'ok' ? `${freePercent}% free` : `only ${freePercent}% free: ${fix}`;
  return { name: 'disk', status, message, ...figures };
}

async function authCheck(ctx: RequestContext): Promise<Check> {
  const { config, auth } = ctx.parts;
  const htpasswd = config.http.auth?.htpasswd;
  if (!htpasswd) return { name: 'auth', status: 'off', message: 'no login configured (http.auth.htpasswd): every caller is anonymous' };
  const ready = auth.readiness();
  let modifiedAt: string | undefined;
  try {
    modifiedAt = (await stat(htpasswd.path)).mtime.toISOString();
  } catch {
    modifiedAt = undefined;
  }
  const check: Check = ready.ok
    ? { name: 'auth', status: 'ok', message: 'the htpasswd file is loaded; changes are picked up within a second' }
    : { name: 'auth', status: 'fail', message: ready.reason ?? 'authentication is not ready' };
  check.challenge = config.perch.auth.challenge;
  if (modifiedAt) check.htpasswdModifiedAt = modifiedAt;
  return check;
}

function gcCheck(ctx: RequestContext, sources: HealthSources, nowMs: number): Check {
  const { gc, gcIntervalMs } = ctx.parts.config.storage;
  if (!gc || gcIntervalMs <= 0) return { name: 'gc', status: 'off', message: gc ? 'storage.gcInterval is 0' : 'storage.gc is false' };
  if (!sources.gc) return { name: 'gc', status: 'off', message: 'garbage collection does not run in this process' };
  const intervalSeconds = gcIntervalMs / 1000;
  const last = sources.gc.history.at(-1);
  if (!last) {
    const overdue = nowMs - sources.startedMs > 2 * gcIntervalMs;
    return {
      name: 'gc',
      status: overdue ? 'warn' : 'ok',
      message: overdue ? 'no run has finished yet, after two intervals: see the log for "gc failed"' : 'no run yet',
      intervalSeconds,
      firstRunDue: new Date(sources.startedMs + gcIntervalMs).toISOString(),
    };
  }
  const finishedMs = last.startedMs + last.durationMs;
  const stale = nowMs - finishedMs > 2 * gcIntervalMs + last.durationMs;
  return {
    name: 'gc',
    status: stale ? 'warn' : 'ok',
    message: stale ? 'the last run finished over two intervals ago: see the log for "gc failed"' : 'ran',
    intervalSeconds,
    lastRun: {
      finishedAt: new Date(finishedMs).toISOString(),
      durationMs: last.durationMs,
      blobsRemoved: last.blobsRemoved,
      manifestsRemoved: last.manifestsRemoved,
      uploadsPurged: last.uploadsPurged,
      bytesFreed: last.bytesFreed,
    },
  };
}

function tlsCheck(sources: HealthSources, nowMs: number): Check {
  if (!sources.tls) return { name: 'tls', status: 'off', message: 'plain HTTP' };
  const cert = sources.tls.current();
  const daysLeft = Math.floor((cert.notAfter.getTime() - nowMs) / DAY_MS);
  const renew = sources.tls.source === 'self-signed' ? 'restart perch to make a new one' : 'replace the files http.tls names (perch reloads them)';
  const status: CheckStatus = daysLeft < 0 ? 'fail' : daysLeft < TLS_WARN_DAYS ? 'warn' : 'ok';
  const message = status === 'ok' ? `valid for ${daysLeft} more days` : status === 'warn' ? `expires in ${daysLeft} days: ${renew}` : `expired: ${renew}`;
  return {
    name: 'tls',
    status,
    message,
    source: sources.tls.source,
    names: cert.names,
    fingerprint: cert.fingerprint256,
    notAfter: cert.notAfter.toISOString(),
    daysLeft,
    loadedAt: sources.tls.loadedAt().toISOString(),
  };
}

export async function healthReport(ctx: RequestContext, sources: HealthSources): Promise<HealthReport> {
  const nowMs = (sources.now ?? Date.now)();
  const checks = [await storageCheck(ctx), await diskCheck(ctx, sources, nowMs), await authCheck(ctx), gcCheck(ctx, sources, nowMs), tlsCheck(sources, nowMs)];
  const worst = checks.reduce((w, c) => (RANK[c.status] > RANK[w] ? c.status : w), 'ok' as CheckStatus);
  return {
    status: worst === 'off' ? 'ok' : worst,
    version,
    startedAt: new Date(sources.startedMs).toISOString(),
    uptimeSeconds: Math.round((nowMs - sources.startedMs) / 1000),
    checks,
  };
}

/** The route perch serve adds beside the probes. */
export function healthReportRoute(sources: HealthSources): Route {
  return {
    name: HEALTH_ROUTE,
    pattern: /^\/health$/,
    methods: {
      GET: {
        access: 'none',
        async handler(ctx) {
          const report = await healthReport(ctx, sources);
          if (report.status === 'fail') ctx.parts.log.warn('health report: failing', { checks: report.checks.filter((c) => c.status === 'fail').map((c) => c.name) });
          const status = report.status === 'fail' ? 503 : 200;
          if (ctx.req.method === 'HEAD') {
            ctx.res.writeHead(status, { 'Cache-Control': 'no-store' });
            ctx.res.end();
            return;
          }
          sendJson(ctx.res, status, report, { 'Cache-Control': 'no-store' });
        },
      },
    },
  };
}
