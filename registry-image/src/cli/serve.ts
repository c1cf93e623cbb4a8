/**
 * `perch serve [CONFIG]`: load the config, open storage, start auth, listen. Returns -1 while
 * serving (the process lives on its server). A bad config, storage that cannot be opened and an
 * address that cannot be listened on each exit 1 with their own message that names the problem;
 * each step reports only its own failures. SIGTERM and SIGINT close the listener and let
 * in-flight requests finish.
 */
import { resolve } from 'node:path';
import { AuthStartFailed, createAuth, HtpasswdRefused } from '../auth';
import { ConfigError, loadConfig } from '../config';
import { createGcScheduler } from '../gc/scheduler';
import { createLogger } from '../log';
import { startS3Api, S3CredentialsError } from '../s3api';
import { startRegistry } from '../server';
import { describeStorage, openStore } from '../storage/open-store';
import { isShared } from '../storage/types';
import { claimRoot, describeHolder, liveHolder, STALE_MS } from '../storage/root-claim';
import { prepareTls } from '../tls';
import { openTrust } from '../trust';
import { operationsHooks } from './serve-hooks';
import { storageProblem } from './storage-problem';

/** How long a shutdown waits for in-flight requests before it exits anyway. */
const SHUTDOWN_GRACE_MS = 25_000;

/**
 * Waits while another live perch serve holds the storage root (storage/root-claim.ts): one
 * killed without a chance to let go (a pod replaced after its grace period) stops counting
 * within STALE_MS. Returns it when it is still there after twice that: a server really running.
 */
async function waitForRoot(root: string, log: ReturnType<typeof createLogger>): Promise<string | undefined> {
  const deadline = Date.now() + 2 * STALE_MS;
  let warned = false;
  for (;;) {
    const holder = await liveHolder(root).catch(() => null); // an unreadable root: the store's open says why
    if (!holder) return undefined;
    if (Date.now() > deadline) return describeHolder(holder);
    if (!warned) log.warn('storage in use', { path: root, holder: describeHolder(holder), waitingSeconds: (2 * STALE_MS) / 1000 });
    warned = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function runServe(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write('usage: perch serve [CONFIG]\n  CONFIG: zot config.json or .yaml; without it perch serves on :5000 with storage in ./.perch-data\n');
    return 0;
  }
  let loaded;
  try {
    loaded = loadConfig(args[0] ? resolve(args[0]) : undefined);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', message: 'invalid configuration', error: err.message }) + '\n');
      return 1;
    }
    throw err;
  }
  const { config, warnings } = loaded;
  const log = createLogger(config.log.level);
  for (const warning of warnings) log.warn('configuration', { warning });
  let store;
  try {
    store = await openStore(config, {
      durable: config.storage.commit,
      orphanUploadMs: config.perch.uploadTTLMs,
      // Links made this long ago still count as fresh: far inside GC's grace (fs-store.ts).
      freshLinkMs: Math.min(60_000, config.storage.gcDelayMs / 2),
    });
  } catch (err) {
    // A driver that cannot even be set up (an Azure account with no way to sign in).
    log.error('cannot open storage', { storage: describeStorage(config), error: (err as Error).message });
    return 1;
  }
  let claim: { release(): Promise<void>; setPort(port: number): Promise<void> };
  if (isShared(store)) {
    // An object store: any number of replicas share the bucket; GC takes turns by its lease.
    claim = { release: async () => {}, setPort: async () => {} };
    try {
      await store.init();
    } catch (err) {
      log.error('cannot open storage', { storage: describeStorage(config), error: (err as Error).message });
      return 1;
    }
    log.info('storage', { storage: describeStorage(config), replicas: 'shared' });
  } else {
    const holder = await waitForRoot(config.storage.rootDirectory, log);
    if (holder) {
      log.error('storage in use', { error: `${config.storage.rootDirectory} is used by ${holder}: one perch serve per storage root; stop that one, or give this one its own storage.rootDirectory` });
      return 1;
    }
    // First, before anything starts: TLS may write its self-signed certificate under the same root.
    try {
      claim = await claimRoot(config.storage.rootDirectory, config.http.address, config.http.port);
      await store.init();
    } catch (err) {
      const problem = storageProblem(config.storage.rootDirectory, err);
      if (!problem) throw err;
      log.error('cannot open storage', { path: config.storage.rootDirectory, code: problem.code, error: problem.error });
      return 1;
    }
  }
  // Before auth starts its pollers: a certificate that does not load ends the process here.
  const tls = await prepareTls(config, log);
  let auth;
  try {
    auth = await createAuth(config, log);
  } catch (err) {
    // An htpasswd file with lines perch cannot check, a key or keys file a login method cannot
    // use: the message names the file and the fix.
    if (!(err instanceof HtpasswdRefused) && !(err instanceof AuthStartFailed)) throw err;
    log.error('cannot start', { error: err.message });
    await claim.release();
    return 1;
  }
  let trust;
  try {
    trust = await openTrust(config, store, log);
  } catch (err) {
    // A perch.trust.cosignKeys file that cannot be read, or a damaged _perch/trust.json.
    log.error('cannot start', { error: (err as Error).message });
    auth.close();
    await claim.release();
    return 1;
  }
  const gc = createGcScheduler(store, config, log);
  const { hooks } = operationsHooks(config, { store, log, tls, gc, startedMs: Date.now() });
  // The login methods' own routes (API keys, the OpenID sign-in) and the trust extension's
  // (key uploads, reports), before the table like every hook route; its pull policy.
  hooks.routes = [...auth.routes, ...trust.routes, ...(hooks.routes ?? [])];
  hooks.manifestGate = trust.manifestGate;
  let started;
  try {
    started = await startRegistry(config, { store, auth, log, hooks, tls });
  } catch (err) {
    // Only the listen socket's own failures: an EACCES from anywhere else is not about the port.
    const { code, syscall } = err as NodeJS.ErrnoException;
    if (syscall !== 'listen' || (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL')) throw err;
    const where = `${config.http.address}:${config.http.port}`;
    const why = code === 'EADDRINUSE' ? 'is already in use by another process' : code === 'EACCES' ? 'needs privileges this user lacks' : 'is not an address of this machine';
    log.error('cannot listen', { error: `${where} ${why}: set http.address/http.port in the config to a free address` });
    auth.close();
    await claim.release();
    return 1;
  }
  await claim.setPort(started.port);
  // The S3 API (perch.s3api), its own listener over the same store and auth (docs/s3api.md).
  let s3api;
  try {
    s3api = await startS3Api(config, { store, auth, log, tls });
  } catch (err) {
    const { code, syscall } = err as NodeJS.ErrnoException;
    const listenFailure = syscall === 'listen' && (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL');
    if (!(err instanceof S3CredentialsError) && !listenFailure) throw err;
    const where = `${config.perch.s3api?.address ?? config.http.address}:${config.perch.s3api?.port}`;
    log.error('cannot start the S3 API', { error: listenFailure ? `${where} cannot be listened on (${code}): set perch.s3api.address/port to a free address` : (err as Error).message });
    await started.close();
    await claim.release();
    return 1;
  }
  // After the store is open: loads the quota totals and, with storage.gc, starts collecting.
  gc.start();
  const stop = (signal: string) => {
    log.always('shutting down', { signal });
    const timer = setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS);
    timer.unref();
    Promise.all([gc.stop(), started.close(), s3api?.close()])
      .then(claim.release)
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return -1;
}
