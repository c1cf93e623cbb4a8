/**
 * The Pod template's checksum annotations: hashes of what the registry reads only at start-up,
 * so a change to it rolls the Deployment.
 *
 * - config.json and the token signing key (one annotation, as it always was). The htpasswd file
 *   is left out on purpose because the registry reloads it live.
 * - Object storage credentials (their own annotation, only when the stack gives some): the
 *   container gets them as environment variables, which a Secret update never changes in a
 *   running Pod, or as a file the cloud SDK reads once.
 */
import { createHash } from 'node:crypto';

export function restartChecksum(configText: string, tokenKey: string | undefined): string {
  const hash = createHash('sha256').update('config.json\0').update(configText);
  if (tokenKey !== undefined) hash.update('\0token.key\0').update(tokenKey);
  return hash.digest('hex');
}

/** SHA-256 over the credentials' Secret keys and values, in the order given. */
export function credentialsChecksum(entries: ReadonlyArray<readonly [key: string, value: string]>): string {
  const hash = createHash('sha256');
  for (const [key, value] of entries) hash.update(key).update('\0').update(value).update('\0');
  return hash.digest('hex');
}
