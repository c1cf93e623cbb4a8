/**
 * perch.s3api.credentials: access key -> secret (read from its file when the listener starts)
 * and the registry user it acts as. The secret never reaches a log; a file that cannot be
 * read stops `perch serve`, naming the file.
 */
import { readFileSync } from 'node:fs';
import type { S3ApiConfig } from '../config/types';

export interface S3Credential {
  secret: string;
  user: string;
}

export class S3CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'S3CredentialsError';
  }
}

export function loadCredentials(config: S3ApiConfig): Map<string, S3Credential> {
  const out = new Map<string, S3Credential>();
  for (const c of config.credentials) {
    let secret: string;
    try {
      secret = readFileSync(c.secretKeyFile, 'utf8').trim();
    } catch (err) {
      throw new S3CredentialsError(`perch.s3api.credentials: the secret key file of access key ${c.accessKey} cannot be read: ${c.secretKeyFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); mount it or fix secretKeyFile`);
    }
    if (secret === '') throw new S3CredentialsError(`perch.s3api.credentials: the secret key file of access key ${c.accessKey} is empty: ${c.secretKeyFile}`);
    out.set(c.accessKey, { secret, user: c.user });
  }
  return out;
}
