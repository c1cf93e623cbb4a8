/**
 * The Pod template's checksum annotation: a hash of what the registry reads only at start-up
 * (config.json and the token signing key). A change to either rolls the Deployment; the
 * htpasswd file is left out on purpose because the registry reloads it live.
 */
import { createHash } from 'node:crypto';

export function restartChecksum(configText: string, tokenKey: string | undefined): string {
  const hash = createHash('sha256').update('config.json\0').update(configText);
  if (tokenKey !== undefined) hash.update('\0token.key\0').update(tokenKey);
  return hash.digest('hex');
}
