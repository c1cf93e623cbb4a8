/**
 * The contract between the HTTP layer and authentication/authorisation.
 *
 * The router calls `authenticate` once per request, then `authorize` for the repository and
 * action the route needs. Both throw `RegistryError` (UNAUTHORIZED with a WWW-Authenticate
 * challenge, or DENIED) and never log or echo a credential.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PolicyAction } from '../config/types';
import type { Route } from '../http/routes';

export interface Identity {
  /** null for an anonymous caller. */
  username: string | null;
  groups: string[];
  /**
   * The login method that vouched, and the groups it reported itself (LDAP, OpenID), apart
   * from those http.accessControl adds: an API key keeps only these, so a user later removed
   * from a config group does not keep it through an old key.
   */
  login?: { method: string; groups: string[] };
  /** Set when the caller presented a bearer token: the grants it carries. */
  token?: {
    access: Array<{ type: string; name: string; actions: string[] }>;
    /** The grants alone decide (an external issuer's token; authenticator.ts TokenPrincipal). */
    grantsDecide?: boolean;
  };
  /**
   * Added with issue 3: where a refused caller is sent for credentials, taken from the request
   * by `authenticate` (the request's Host and TLS, or http.externalUrl). `authorize` gets no
   * request, so the challenge it throws is built from this; absent, it falls back to
   * http.externalUrl or the listen address. A function: only a refusal needs it, so a
   * request that is let through never builds it.
   */
  challenge?: () => ChallengeContext;
  /**
   * Set when a browser made the request for a page of another site (auth/cross-site.ts): the
   * caller is anonymous whatever the browser sent, and a refusal is 403 without a challenge,
   * so that page can neither use nor plant a sign-in.
   */
  fromAnotherSite?: string;
}

/** The two parameters of a Bearer challenge that depend on how the client reached us. */
export interface ChallengeContext {
  /** The token endpoint, e.g. `https://registry.example.com/v2/token`. */
  realm: string;
  /** The `service` parameter and the tokens' `aud`: the registry's host[:port]. */
  service: string;
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
   * Actions follow zot (authz.go): GET/HEAD read; POST/PUT/PATCH create, or update when a
   * PUT names a tag that already exists; DELETE delete.
   */
  authorize(identity: Identity, repository: string | undefined, action: PolicyAction): void;
  /** Catalog filtering: may `identity` read `repository`? Never throws. */
  canRead(identity: Identity, repository: string): boolean;
  /** Serves `/v2/token` (GET with Basic, POST with grant_type=password|refresh_token). */
  handleToken(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** For /readyz: a configured auth file that cannot be loaded makes the registry unready. */
  readiness(): ReadinessCheck;
  /** Routes the login methods add (API keys, the OpenID sign-in); perch serve mounts them through the server's hooks. */
  readonly routes: readonly Route[];
  close(): void;
}
