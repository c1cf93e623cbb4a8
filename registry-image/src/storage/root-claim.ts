/**
 * One `perch serve` per storage root: the server holds a claim on its root, a small file
 * (<root>/perch-serve.json: pid, host, address, port, start time) whose modification time it
 * refreshes every few seconds and which it removes when it stops.
 *
 * What reads the claim:
 *   - `perch serve` waits while another live server holds the root (two servers would clear
 *     each other's tmp/ and race each other's uploads), and gives up with a message naming it;
 *   - `perch gc` refuses to collect beside a live server (its removals race the server's pushes
 *     in ways only the server's own in-process guard closes; docs/gc.md), unless --dry-run.
 *
 * A claim is live while it was refreshed in the last STALE_MS, except when it names this host
 * and a process that is gone, or this very process (a container restarted in place is pid 1
 * again). A server killed with SIGKILL on another host (a pod replaced after its grace period)
 * leaves a claim that goes stale by itself within STALE_MS.
 *
 * Two servers started within the same moment can both find the root free: the claim is a
 * guard against mistakes, not a lock (DESIGN.md's storage is one process's).
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isNotFound } from './atomic-file';

export const CLAIM_FILE = 'perch-serve.json';
/** How often a live server refreshes its claim. */
export const REFRESH_MS = 5_000;
/** A claim not refreshed for this long is a server that is gone. */
export const STALE_MS = 4 * REFRESH_MS;

export interface Claim {
  pid: number;
  host: string;
  address: string;
  port: number;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live server holding `root`, other than this process; null when there is none. */
export async function liveHolder(root: string, now = Date.now()): Promise<Claim | null> {
  const path = join(root, CLAIM_FILE);
  let claim: Claim;
  let modifiedMs: number;
  try {
    [claim, modifiedMs] = await Promise.all([fs.readFile(path, 'utf8').then((text) => JSON.parse(text) as Claim), fs.stat(path).then((st) => st.mtimeMs)]);
  } catch (err) {
    if (isNotFound(err) || err instanceof SyntaxError) return null; // none, or torn by a crash while written
    throw err;
  }
  if (now - modifiedMs > STALE_MS) return null;
  if (claim.host === hostname() && (claim.pid === process.pid || !isAlive(claim.pid))) return null;
  return claim;
}

export function describeHolder(claim: Claim): string {
  return `perch serve (pid ${claim.pid} on host ${claim.host}, listening on ${claim.address}:${claim.port}, started ${claim.startedAt})`;
}

export interface RootClaim {
  /** The port once listening (a configured port 0 is chosen by the system). */
  setPort(port: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Claims `root` (made if missing) for this process, before the store opens it. Written whole
 * or not at all (a temporary file renamed), so a reader never takes a torn claim for none.
 */
export async function claimRoot(root: string, address: string, port: number): Promise<RootClaim> {
  const path = join(root, CLAIM_FILE);
  const claim: Claim = { pid: process.pid, host: hostname(), address, port, startedAt: new Date().toISOString() };
  const write = async () => {
    const tmp = `${path}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(claim) + '\n');
    await fs.rename(tmp, path);
  };
  await fs.mkdir(root, { recursive: true });
  await write();
  const timer = setInterval(() => {
    const now = new Date();
    // Removed by hand meanwhile: written again, so the claim still says who holds the root.
    fs.utimes(path, now, now).catch((err) => (isNotFound(err) ? write() : undefined)).catch(() => {});
  }, REFRESH_MS);
  timer.unref();
  return {
    async setPort(listening: number) {
      if (listening === claim.port) return;
      claim.port = listening;
      await write();
    },
    async release() {
      clearInterval(timer);
      await fs.rm(path, { force: true });
    },
  };
}
