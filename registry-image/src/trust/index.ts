/**
 * Supply-chain trust (zot's extensions.trust; docs/trust.md): the trusted keys (key-store.ts,
 * kept by keys-file.ts), what is verified of a manifest (report.ts over cosign-formats.ts and
 * verify-signature.ts), the routes (routes.ts) and the pull policy (pull-policy.ts).
 * `openTrust` builds what perch serve adds to the registry's hooks from the config.
 *
 * Uploaded keys live in a file under storage.rootDirectory. With object storage (replicas
 * sharing a bucket) there is no file all replicas share, so uploads are refused with a message
 * and keys come from perch.trust.cosignKeys, which every replica reads from its own config.
 */
import type { PerchConfig } from '../config/types';
import type { ManifestGate } from '../http/context';
import { RegistryError } from '../http/errors';
import type { Route } from '../http/routes';
import type { Logger } from '../log';
import type { Store } from '../storage/types';
import { trustFilePath } from './keys-file';
import { TrustKeys } from './key-store';
import { pullPolicy } from './pull-policy';
import { TrustReporter } from './report';
import { trustRoutes } from './routes';

export interface Trust {
  routes: Route[];
  manifestGate?: ManifestGate;
  keys?: TrustKeys;
  reporter?: TrustReporter;
}

const OFF_PATTERN = /^\/v2\/_zot\/ext\/(?:cosign|notation|trust\/.*)$/;

function offRoutes(why: string): Route[] {
  const off = async (ctx: { req: NodeJS.ReadableStream }) => {
    ctx.req.resume();
    throw new RegistryError('NOT_FOUND', why);
  };
  return [{ name: 'trust-off', pattern: OFF_PATTERN, methods: { GET: { handler: off, access: 'none' }, POST: { handler: off, access: 'none' }, DELETE: { handler: off, access: 'none' } } }];
}

/** Throws (naming the file and the fix) when a configured key file or the stored keys cannot be read. */
export async function openTrust(config: PerchConfig, store: Store, log: Logger): Promise<Trust> {
  const trust = config.extensions.trust;
  if (!trust?.enable || (!trust.cosign && !trust.notation)) {
    return { routes: offRoutes('the trust extension is off: set "extensions": {"trust": {"enable": true, "cosign": true}} in the registry config to turn it on') };
  }
  const uploadsOff = config.storage.driver
    ? 'uploaded keys need filesystem storage for now: with storage.storageDriver (object storage) replicas share no place to keep them; list the public key files in perch.trust.cosignKeys instead'
    : undefined;
  const keys = new TrustKeys(uploadsOff ? undefined : trustFilePath(config.storage.rootDirectory), log);
  await keys.load(config.perch.trust?.cosignKeys ?? []);
  const reporter = new TrustReporter(store, keys);
  const manifestGate = trust.cosign ? pullPolicy(config.perch.trust?.requireSignature ?? [], reporter, store) : undefined;
  log.info('trust extension', {
    cosign: trust.cosign,
    notation: trust.notation,
    cosignKeys: keys.cosignKeys().length,
    requireSignature: config.perch.trust?.requireSignature ?? [],
    ...(uploadsOff ? { uploads: 'off (object storage)' } : {}),
  });
  return { routes: trustRoutes({ config, keys, reporter, uploadsOff }), manifestGate, keys, reporter };
}
