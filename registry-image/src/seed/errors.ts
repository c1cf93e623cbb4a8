/**
 * What `perch seed` tells a user when it cannot finish. Each kind says what went wrong and
 * what to do about it; the CLI prints the message and exits 1 (2 for usage errors).
 */
import type { RegistryError, RegistryErrorKind } from '../client/errors';

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

/** Seed's kind for each of the client library's (the messages are already in seed's words: see SEED_WORDING in registry-client.ts). */
const FROM_CLIENT: Record<RegistryErrorKind, SeedErrorKind> = {
  unauthorized: 'auth',
  denied: 'refused',
  'not-found': 'refused',
  refused: 'refused',
  'digest-mismatch': 'protocol',
  unreachable: 'unreachable',
  tls: 'protocol',
  protocol: 'protocol',
  invalid: 'usage',
};

/** A RegistryError from the client library's Session, as seed reports it. */
export function seedErrorFrom(err: RegistryError): SeedError {
  return new SeedError(FROM_CLIENT[err.kind], err.message);
}
