/** What a handler gets: the request, its parsed route parameters, the caller, and the registry's parts. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, Auth } from '../auth/types';
import type { PerchConfig, PolicyAction } from '../config/types';
import type { Logger } from '../log';
import type { Store, StoredManifest } from '../storage/types';

/**
 * Consulted by GET/HEAD of a manifest before it is served (handlers/manifests.ts); throws a
 * RegistryError to refuse. `reference` is the tag or digest the client asked for. perch serve
 * sets it through RegistryHooks.manifestGate (the trust extension's pull policy, trust/pull-policy.ts).
 */
export type ManifestGate = (ctx: RequestContext, repository: string, reference: string, manifest: StoredManifest) => Promise<void>;

export interface RegistryParts {
  config: PerchConfig;
  store: Store;
  auth: Auth;
  log: Logger;
  manifestGate?: ManifestGate;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** Route parameters: name (repository), digest, reference, id (upload session). */
  params: Record<string, string>;
  identity: Identity;
  parts: RegistryParts;
  /** Throws unless the caller may do `action` on the route's repository (or `repository`). */
  allow(action: PolicyAction, repository?: string): void;
}

export type Handler = (ctx: RequestContext) => Promise<void>;
