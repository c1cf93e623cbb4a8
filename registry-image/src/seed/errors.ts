/**
 * What `perch seed` tells a user when it cannot finish. Each kind says what went wrong and
 * what to do about it; the CLI prints the message and exits 1 (2 for usage errors).
 */

export type SeedErrorKind =
  /** Bad flags or environment. */
  | 'usage'
  /** No HTTP answer before the deadline. */
  | 'unreachable'
  /** Credentials missing or not accepted. */
  | 'auth'
  /** The registry answered a push step with an error. */
  | 'refused'
  /** The address answers, but not as an OCI registry. */
  | 'protocol'
  /** The chart sources could not be packed. */
  | 'charts';

export class SeedError extends Error {
  constructor(
    readonly kind: SeedErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SeedError';
  }
}

// How an error answer reads lives with the client library; seed's messages use the same words.
export { ociErrors, describeResponse } from '../client/oci-errors';
export type { OciErrorEntry } from '../client/oci-errors';
