/**
 * The contract between the HTTP layer and authentication/authorisation.
 *
 * The router calls `authenticate` once per request, then `authorize` for the repository and
 * action the route needs. Both throw `RegistryError` (UNAUTHORIZED with a WWW-Authenticate
 * challenge, or DENIED) and never log or echo a credential.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicyAction } from '../config/types';

export interface Identity {
  /** null for an anonymous caller. */
  username: string | null;
  groups: string[];
  /** Set when the caller presented a bearer token: the grants it carries. */
  token?: { access: Array<{ type: string; name: string; actions: string[] }> };
}

export const ANONYMOUS: Identity = Object.freeze({ username: null, groups: [] }) as Identity;

export interface ReadinessCheck {
  ok: boolean;
  /** Why not ready, for /readyz and the log (never a secret). */
  reason?: string;
}

export interface Auth {
  /** Who is calling. No credentials: ANONYMOUS. Bad credentials: throws UNAUTHORIZED. */
  authenticate(req: IncomingMessage): Promise<Identity>;
  /**
   * May `identity` do `action` on `repository`? Throws UNAUTHORIZED (with a challenge naming
   * the scope) for an anonymous caller or an insufficient token, DENIED for a known user.
   * `repository` undefined means the base endpoint `/v2/` (authentication only).
   */
  authorize(identity: Identity, repository: string | undefined, action: PolicyAction): void;
  /** Catalog filtering: may `identity` read `repository`? Never throws. */
  canRead(identity: Identity, repository: string): boolean;
  /** Serves `/v2/token` (GET with Basic, POST with grant_type=password|refresh_token). */
  handleToken(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** For /readyz: a configured auth file that cannot be loaded makes the registry unready. */
  readiness(): ReadinessCheck;
  close(): void;
}
