/**
 * `createAuth(config, log)`: the registry's authentication and access control from its
 * configuration (docs/auth.md is the user's guide):
 *
 * - http.auth.htpasswd.path: bcrypt users, re-read by polling while running
 * - http.auth.failDelay: seconds before a failed login is answered
 * - http.accessControl: zot's repository policies (policy.ts)
 * - perch.auth.challenge: "basic" (default) or "bearer" (tokens from /v2/token)
 * - perch.auth.tokenKeyFile, perch.auth.tokenTTL: the token signing key and token lifetime;
 *   under Basic challenges with tokenKeyFile left out the key is optional (token-key-file.ts)
 *
 * Without http.auth.htpasswd nobody logs in: everyone is anonymous, allowed everything unless
 * http.accessControl says otherwise (zot's behaviour).
 *
 * Options are for tests: `pollIntervalMs` (default 1000) sets how often the htpasswd and key
 * files are checked for changes; `now` replaces the clock for token times and caches.
 */
import type { PerchConfig } from '../config/types';
import type { Logger } from '../log';
import { HtpasswdStore } from './htpasswd-store';
import { Login } from './login';
import { LoginThrottle } from './login-throttle';
import { AccessPolicy } from './policy';
import { RegistryAuth, type RegistryAuthParts } from './registry-auth';
import { TokenKeyFile } from './token-key-file';
import { TokenService } from './token-service';
import { TokenSigner } from './tokens';
import type { Auth } from './types';

export type { Auth, ChallengeContext, Identity, ReadinessCheck } from './types';
export { ANONYMOUS } from './types';
export { HtpasswdRefused } from './htpasswd-store';

export interface AuthOptions {
  pollIntervalMs?: number;
  now?: () => number;
}

export const DEFAULT_POLL_INTERVAL_MS = 1000;

export async function createAuth(config: PerchConfig, log: Logger, options: AuthOptions = {}): Promise<Auth> {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const htpasswd = config.http.auth?.htpasswd;
  const policy = new AccessPolicy(config.http.accessControl, htpasswd !== undefined);
  const parts: RegistryAuthParts = { config, log, policy, readiness: [], close: [] };
  if (!htpasswd) {
    if (config.http.auth) log.warn('http.auth has no htpasswd: nobody can log in, every caller is anonymous');
    return new RegistryAuth(parts);
  }

  const store = new HtpasswdStore(htpasswd.path, log, { pollIntervalMs, now });
  await store.start();
  parts.readiness.push(() => store.readiness());
  parts.close.push(() => store.close());

  const bearer = config.perch.auth.challenge === 'bearer';
  const { tokenKeyFile, tokenKeyFileSet } = config.perch.auth;
  // Basic login needs no key: at the default path, with none mounted, the token service is just off.
  const key = new TokenKeyFile(tokenKeyFile, log, { pollIntervalMs, optional: !bearer && !tokenKeyFileSet });
  await key.start();
  parts.close.push(() => key.close());
  if (bearer) {
    // With Bearer challenges every client needs tokens: no key, not ready.
    parts.readiness.push(() => {
      const trouble = key.trouble();
      return trouble ? { ok: false, reason: trouble } : { ok: true };
    });
  } else if (key.absent()) {
    log.info('the token service is off: no token key (Basic login needs none)', {
      path: tokenKeyFile,
      enable: `mount a key at ${tokenKeyFile} or set perch.auth.tokenKeyFile`,
    });
  } else if (key.unavailable()) {
    log.warn('the token service is off until the token key can be loaded (Basic login still works)', { problem: key.unavailable() });
  }

  const login = new Login(store, new LoginThrottle((config.http.auth?.failDelay ?? 0) * 1000, now), log);
  const signer = new TokenSigner(() => key.current(), now, config.http.externalUrl ? new URL(config.http.externalUrl).host : undefined);
  parts.login = login;
  parts.signer = signer;
  parts.keyUnavailable = () => key.unavailable();
  parts.tokens = new TokenService({
    config,
    log,
    policy,
    login,
    signer,
    keyUnavailable: () => key.unavailable(),
    realm: config.http.realm ?? 'perch',
  });
  return new RegistryAuth(parts);
}
