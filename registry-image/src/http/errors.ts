/**
 * Every error the registry can answer with, registered once with its HTTP status.
 *
 * The OCI distribution spec ("Error Codes") names the codes; where one code is answered with
 * more than one status (BLOB_UPLOAD_INVALID is 400 for a bad body and 416 for a bad range),
 * the table has one entry per pair, so no call site ever picks a status.
 * The wire form is `{"errors":[{"code","message","detail"}]}`.
 */

export const ERRORS = {
  BLOB_UNKNOWN: { code: 'BLOB_UNKNOWN', status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { code: 'BLOB_UPLOAD_INVALID', status: 400, message: 'blob upload invalid' },
  /** Content-Range out of order, overlapping or malformed; Range header that cannot be met. */
  RANGE_INVALID: { code: 'BLOB_UPLOAD_INVALID', status: 416, message: 'requested range is not satisfiable' },
  BLOB_UPLOAD_UNKNOWN: { code: 'BLOB_UPLOAD_UNKNOWN', status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { code: 'DIGEST_INVALID', status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { code: 'MANIFEST_BLOB_UNKNOWN', status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { code: 'MANIFEST_INVALID', status: 400, message: 'manifest invalid' },
  MANIFEST_TOO_BIG: { code: 'SIZE_INVALID', status: 413, message: 'manifest is larger than the registry accepts' },
  MANIFEST_UNKNOWN: { code: 'MANIFEST_UNKNOWN', status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { code: 'NAME_INVALID', status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { code: 'NAME_UNKNOWN', status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { code: 'SIZE_INVALID', status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { code: 'TAG_INVALID', status: 400, message: 'invalid tag' },
  PAGINATION_INVALID: { code: 'PAGINATION_NUMBER_INVALID', status: 400, message: 'invalid number of results requested' },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', status: 401, message: 'authentication required' },
  DENIED: { code: 'DENIED', status: 403, message: 'requested access to the resource is denied' },
  QUOTA_EXCEEDED: { code: 'DENIED', status: 403, message: 'storage quota exceeded' },
  UNSUPPORTED: { code: 'UNSUPPORTED', status: 405, message: 'the operation is unsupported' },
  METHOD_NOT_ALLOWED: { code: 'UNSUPPORTED', status: 405, message: 'method not allowed on this route' },
  NOT_FOUND: { code: 'NOT_FOUND', status: 404, message: 'no such route' },
  TOO_MANY_REQUESTS: { code: 'TOOMANYREQUESTS', status: 429, message: 'too many requests' },
  /*
   * Requests Node's HTTP parser refuses before any route runs (writeClientError in
   * http/respond.ts). UNSUPPORTED is the spec's code for "an invalid set of parameters".
   */
  REQUEST_MALFORMED: { code: 'UNSUPPORTED', status: 400, message: 'the request is not valid HTTP/1.1' },
  REQUEST_LENGTH_INVALID: { code: 'SIZE_INVALID', status: 400, message: 'the request body does not match its Content-Length or chunked encoding' },
  HEADERS_TOO_LARGE: { code: 'SIZE_INVALID', status: 431, message: 'the request line and headers are larger than the registry accepts' },
  REQUEST_TIMEOUT: { code: 'UNSUPPORTED', status: 408, message: 'the request did not arrive in time' },
  UNAVAILABLE: { code: 'UNAVAILABLE', status: 503, message: 'service unavailable' },
  /**
   * The storage has no room for a write (ENOSPC, EDQUOT). 507 Insufficient Storage (RFC 4918
   * section 11.5: the server cannot store what the request needs; a condition considered
   * temporary), not the opaque 500 of distribution (UNKNOWN, distribution/distribution#4896)
   * and zot (no body): the client and its user learn what is wrong, and crane
   * (go-containerregistry retries 408, 500, 502, 503, 504) gives up at once instead of
   * resending layers that cannot fit; oras-go retries any 5xx a few times within seconds, then
   * reports this message. The spec has no code for it; UNAVAILABLE is distribution's code for
   * a request the registry cannot serve now. The message names no path (pushes may be
   * anonymous); the server's log has the errno. docs/operations.md "Full disk".
   */
  STORAGE_FULL: {
    code: 'UNAVAILABLE',
    status: 507,
    message:
      "no space left on the registry's storage: nothing of this request was kept (an upload keeps the bytes acknowledged before it, and can be resumed); free space or grow the volume, then push again",
  },
  INTERNAL: { code: 'UNKNOWN', status: 500, message: 'internal server error' },
} as const;

export type ErrorName = keyof typeof ERRORS;

/** The one error type handlers throw; `writeError` in http/respond.ts turns it into a response. */
export class RegistryError extends Error {
  readonly code: string;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers (a WWW-Authenticate challenge, a Retry-After). */
  readonly headers: Record<string, string>;

  constructor(name: ErrorName, message?: string, detail?: unknown, headers: Record<string, string> = {}) {
    const entry = ERRORS[name];
    super(message ?? entry.message);
    this.name = 'RegistryError';
    this.code = entry.code;
    this.status = entry.status;
    this.detail = detail;
    this.headers = headers;
  }

  toJSON(): { errors: Array<{ code: string; message: string; detail?: unknown }> } {
    const error: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) error.detail = this.detail;
    return { errors: [error] };
  }
}
