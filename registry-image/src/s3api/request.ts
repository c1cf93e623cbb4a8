/**
 * One S3 request as the operations see it: who signed it (the registry identity its access key
 * maps to), the bucket and key it addresses, its query, and its body, which can only be read
 * through the payload verifier (sigv4/payload-verifier.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Identity } from '../auth/types';
import type { PolicyAction } from '../config/types';
import { RegistryError } from '../http/errors';
import { S3Error } from './errors';
import type { S3Parts } from './parts';
import { createPayloadVerifier, type PayloadVerifierOptions, type VerifiedRequest } from './sigv4';

export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  parts: S3Parts;
  verified: VerifiedRequest;
  identity: Identity;
  /** Empty for the service (ListBuckets). */
  bucket: string;
  /** Empty for a bucket request. */
  key: string;
  query: Map<string, string>;
  requestId: string;
}

/** Throws AccessDenied unless the identity may do `action` on `repository` (http.accessControl). */
export function allow(r: S3Request, repository: string, action: PolicyAction): void {
  try {
    r.parts.auth.authorize(r.identity, repository, action);
  } catch (err) {
    if (err instanceof RegistryError) {
      const who = r.identity.username === null ? 'anonymous requests' : `user ${JSON.stringify(r.identity.username)}`;
      throw new S3Error('AccessDenied', `Access Denied: ${who} may not ${action} ${repository} (http.accessControl)`);
    }
    throw err;
  }
}

export function may(r: S3Request, repository: string, action: PolicyAction): boolean {
  try {
    r.parts.auth.authorize(r.identity, repository, action);
    return true;
  } catch {
    return false;
  }
}

/**
 * The body, decoded and verified as it streams. `failure()` is the verifier's error, if it
 * gave one: the store sees only a broken stream, the client must hear which check failed.
 */
export function body(r: S3Request, options?: PayloadVerifierOptions): { stream: Readable; failure: () => unknown } {
  let failed: unknown;
  const verifier = createPayloadVerifier(r.verified, options);
  verifier.on('error', (err) => (failed ??= err));
  r.req.on('error', (err) => verifier.destroy(err));
  r.req.pipe(verifier);
  return { stream: verifier, failure: () => failed };
}

/** A small body (an XML document) read whole, verified; larger than `limit` is refused. */
export async function readSmallBody(r: S3Request, limit: number, options?: PayloadVerifierOptions): Promise<Buffer> {
  const { stream, failure } = body(r, options);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new S3Error('InvalidRequest', `the request body is larger than the ${limit} bytes this operation takes`);
      chunks.push(chunk);
    }
  } catch (err) {
    throw failure() ?? err;
  }
  return Buffer.concat(chunks);
}

/** A header's value, or undefined. */
export function header(r: S3Request, name: string): string | undefined {
  const v = r.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The bytes a request says its (decoded) body holds, when it says. */
export function declaredLength(r: S3Request): number | undefined {
  const text = header(r, 'x-amz-decoded-content-length') ?? header(r, 'content-length');
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}
