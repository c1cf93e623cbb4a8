/**
 * Browse-UI sessions: signed cookies (sessions.ts) under a key from http.auth.sessionKeysFile
 * or made at start (session-keys.ts), and their RequestAuthenticator (session-authenticator.ts).
 */
import type { PerchConfig } from '../../config/types';
import type { Logger } from '../../log';
import { SessionKeys } from './session-keys';
import { Sessions, type SessionOptions } from './sessions';

export { SessionAuthenticator } from './session-authenticator';
export { SessionKeys, SessionKeysRefused } from './session-keys';
export { SESSION_COOKIE, SESSION_TTL_MS, Sessions } from './sessions';

/** Sessions from the config; throws SessionKeysRefused for a sessionKeysFile it cannot use. */
export function createSessions(config: PerchConfig, log: Logger, options: SessionOptions = {}): Sessions {
  const keys = SessionKeys.load(config.http.auth?.sessionKeysFile);
  if (keys.source === 'generated') {
    log.info('session key made at start: UI sessions end when perch restarts and are valid on this replica only', {
      fix: 'set http.auth.sessionKeysFile to a JSON file {"hashKey": "..."} shared by every replica',
    });
  }
  return new Sessions(keys, config, options);
}
