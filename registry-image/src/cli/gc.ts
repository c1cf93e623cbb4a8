/**
 * `perch gc [--dry-run] CONFIG`: one garbage collection over the config's storage.rootDirectory,
 * with the config's gcDelay, retention and perch.uploadTTL (gc/collector.ts). It prints one line
 * per thing it removes and a summary with the bytes freed; `--dry-run` prints exactly what a real
 * run on the same, unchanged storage would then remove, and removes nothing.
 *
 * It runs even when the config says `storage.gc: false` (asking for it is the point). Meant for a
 * stopped registry or a dry run: beside a live `perch serve` on the same storage (its claim on
 * the root, storage/root-claim.ts) it refuses, naming that server, and points at storage.gc,
 * whose scheduler shares the server's guard (docs/gc.md, "Running beside a server").
 * It does not call the store's init (which clears tmp/, where a live server may be writing).
 * On an object store (storage.storageDriver) it takes the GC lease the servers share, and
 * refuses while a server holds it (gc/lease.ts).
 *
 * Exit codes: 0 done, 1 failed (bad config, no storage, a live server on it), 2 usage error.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { collectGarbage, gcOptionsFrom } from '../gc/collector';
import { describeRemoval, summarise } from '../gc/report';
import { createLogger } from '../log';
import { FsStore } from '../storage/fs-store';
import { describeHolder, liveHolder } from '../storage/root-claim';
import { describeStorage, openStore } from '../storage/open-store';
import { isShared } from '../storage/types';
import { withGcLease } from '../gc/lease';

export interface GcIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage: perch gc [--dry-run] CONFIG
  Removes unreferenced blobs older than storage.gcDelay, manifests storage.retention says to
  remove (untagged ones by default), blob links no manifest uses, and upload sessions untouched
  for perch.uploadTTL, from CONFIG's storage.rootDirectory; prints each removal and the bytes freed.
  --dry-run   print what would be removed; change nothing
`;

export async function runGc(argv: string[], io: GcIo): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout.write(USAGE);
    return 0;
  }
  const dryRun = argv.includes('--dry-run');
  const rest = argv.filter((a) => a !== '--dry-run');
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown || rest.length !== 1) {
    io.stderr.write(`perch gc: ${unknown ? `unknown option ${unknown}` : rest.length === 0 ? 'CONFIG is missing' : 'give one CONFIG'}\n\n${USAGE}`);
    return 2;
  }
  let loaded;
  try {
    loaded = loadConfig(resolve(rest[0]));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`perch gc: invalid configuration\n${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const { config, warnings } = loaded;
  for (const warning of warnings) io.stderr.write(`perch gc: warning: ${warning}\n`);
  // Retention's dry-run decisions and per-removal debug lines go to stderr, keeping stdout the list.
  const log = createLogger(config.log.level === 'debug' ? 'debug' : 'info', (line) => io.stderr.write(line));
  let report;
  if (config.storage.driver) {
    // An object store: take the replicas' GC lease (a dry run only reads, and needs none).
    const store = await openStore(config);
    if (!isShared(store)) throw new Error('an object store is always shared');
    const collect = (signal?: AbortSignal) => collectGarbage(store, gcOptionsFrom(config, { dryRun, log, signal }));
    try {
      report = dryRun ? await collect() : await withGcLease(store, new AbortController().signal, log, collect);
    } catch (err) {
      io.stderr.write(`perch gc: ${describeStorage(config)}: ${(err as Error).message}\n`);
      return 1;
    }
    if (report.skippedFor) {
      io.stderr.write(`perch gc: ${report.skippedFor} is collecting garbage in ${describeStorage(config)} now (it holds the GC lease); run perch gc again after it finishes, or let the servers collect (storage.gc)\n`);
      return 1;
    }
  } else {
    const root = config.storage.rootDirectory;
    try {
      if (!(await fs.stat(root)).isDirectory()) throw new Error('not a directory');
    } catch {
      io.stderr.write(`perch gc: no registry storage at ${root} (storage.rootDirectory in ${rest[0]}); point the config at the directory perch serve uses\n`);
      return 1;
    }
    const holder = dryRun ? null : await liveHolder(root);
    if (holder) {
      io.stderr.write(
        `perch gc: ${root} is in use by ${describeHolder(holder)}; collecting beside it could race its pushes.\n` +
          `  Let that server collect (storage.gc: true, with storage.gcInterval), or stop it and run perch gc again; --dry-run is safe beside it.\n`,
      );
      return 1;
    }
    const store = new FsStore(root, { durable: config.storage.commit, orphanUploadMs: config.perch.uploadTTLMs });
    report = await collectGarbage(store, gcOptionsFrom(config, { dryRun, log }));
  }
  const verb = dryRun ? 'would remove' : 'removed';
  for (const removal of report.removals) io.stdout.write(`${verb} ${describeRemoval(removal)}\n`);
  io.stdout.write(`perch gc${dryRun ? ' --dry-run' : ''}: ${summarise(report)}\n`);
  return 0;
}
