/**
 * What `perch seed` tells a user when it cannot finish. Each kind says what went wrong and
 * what to do about it; the CLI prints the message and exits 1 (2 for usage errors).
 */
import type { HttpResponse } from './http-transport';

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

export interface OciErrorEntry {
  code: string;
  message: string;
}

/** The `{"errors":[{"code","message","detail"}]}` body of an error response, if it has one. */
export function ociErrors(response: HttpResponse): OciErrorEntry[] {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(body.errors)) return [];
    return body.errors
      .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object')
      .map((e) => ({ code: String(e.code ?? 'UNKNOWN'), message: String(e.message ?? '') }));
  } catch {
    return [];
  }
}

/** "403 DENIED: requested access to the resource is denied", or the status and a bit of the body. */
export function describeResponse(response: HttpResponse): string {
  const errors = ociErrors(response);
  if (errors.length > 0) return `${response.status} ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`;
  const text = response.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  return text ? `${response.status} ${text}` : `${response.status}`;
}
