/**
 * The one error the client library throws. `kind` says what went wrong in words a program can
 * switch on; the message says it for a person, with what to do about it, and quotes the
 * registry's own OCI error code and message when it sent one. No message, kind or field ever
 * holds a password or a token.
 */
import type { OciErrorEntry } from './oci-errors';

export type RegistryErrorKind =
  /** Credentials missing, or not accepted (401). */
  | 'unauthorized'
  /** Credentials accepted, but not allowed to do this (403). */
  | 'denied'
  /** No such repository, tag, manifest or blob (404). */
  | 'not-found'
  /** Bytes whose digest or size is not the one asked for: refused, never written. */
  | 'digest-mismatch'
  /** No HTTP answer: refused, reset, timed out. */
  | 'unreachable'
  /** A TLS certificate that does not verify, or TLS spoken to a plain HTTP server. */
  | 'tls'
  /** Any other error answer from the registry. */
  | 'refused'
  /** An answer that does not follow the distribution spec. */
  | 'protocol'
  /** A bad argument or input file (nothing was sent). */
  | 'invalid';

export class RegistryError extends Error {
  /** The HTTP status of the answer that caused it, when there was one. */
  readonly status?: number;
  /** The registry's `{"errors":[...]}` entries, e.g. [{ code: 'MANIFEST_UNKNOWN', message }]. */
  readonly ociErrors: OciErrorEntry[];

  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    details: { status?: number; ociErrors?: OciErrorEntry[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RegistryError';
    this.status = details.status;
    this.ociErrors = details.ociErrors ?? [];
  }

  /** The first OCI error code the registry sent (BLOB_UNKNOWN, DENIED, ...), if any. */
  get code(): string | undefined {
    return this.ociErrors[0]?.code;
  }
}
