/**
 * The S3 API's errors, each registered once with S3's code and HTTP status (S3 API Reference,
 * "Error responses"), the one exception type handlers throw, and the translation of what the
 * layers below throw (SigV4 errors, registry access refusals, storage errors) into it.
 * server.ts is the one place that writes an error as S3's XML.
 */
import { RegistryError } from '../http/errors';
import { isNoSpace, StorageError } from '../storage/types';
import { S3AuthError } from './sigv4';

export const S3_ERRORS = {
  AccessDenied: 403,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  /** Not an error body: a conditional GET or HEAD whose condition says "you have it". */
  NotModified: 304,
  PreconditionFailed: 412,
  SlowDown: 503,
  ServiceUnavailable: 503,
  /** perch's own: the registry's disk is full (S3 has no code for it; MinIO answers 507 too). */
  InsufficientStorage: 507,
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra headers (Content-Range on 416, ETag and Last-Modified on 304). */
  headers: Record<string, string> = {};

  constructor(code: S3ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'S3Error';
    this.code = code;
    this.status = S3_ERRORS[code];
    this.headers = headers;
  }
}

/** Anything thrown below the S3 handlers, as the S3 error a client understands. */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof S3AuthError) {
    const e = new S3Error('InvalidRequest', err.message);
    // The verifier's codes are S3's own: keep code and status as they are.
    Object.assign(e, { code: err.code, status: err.status });
    return e;
  }
  if (err instanceof RegistryError) {
    // Access policy (401/403, quotas too), storage.maxRepos (429), a full disk (507).
    if (err.status === 401 || err.status === 403) return new S3Error('AccessDenied', err.message);
    if (err.status === 429) return new S3Error('SlowDown', err.message);
    if (err.status === 507) return new S3Error('InsufficientStorage', err.message);
    if (err.status === 503) return new S3Error('ServiceUnavailable', err.message);
    if (err.status === 400) return new S3Error('InvalidRequest', err.message);
    return new S3Error('InternalError', err.message);
  }
  if (err instanceof StorageError) {
    switch (err.kind) {
      case 'SizeMismatch':
        return new S3Error('IncompleteBody', err.message);
      case 'QuotaExceeded':
        return new S3Error('AccessDenied', err.message);
      case 'NoSpace':
        return new S3Error('InsufficientStorage', 'no space left on the registry\'s storage: nothing of this request was kept');
      case 'NotFound':
        return new S3Error('NoSuchKey', err.message);
      case 'RangeNotSatisfiable':
        return new S3Error('InvalidRange', err.message);
      default:
        return new S3Error('InternalError', err.message);
    }
  }
  if (isNoSpace(err)) return new S3Error('InsufficientStorage', 'no space left on the registry\'s storage: nothing of this request was kept');
  return new S3Error('InternalError', 'We encountered an internal error. Please try again.');
}
