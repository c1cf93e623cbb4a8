/** What a handler gets: the request, its parsed route parameters, the caller, and the registry's parts. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, Auth } from '../auth/types';
import type { PerchConfig, PolicyAction } from '../config/types';
import type { Logger } from '../log';
import type { Store } from '../storage/types';

export interface RegistryParts {
  config: PerchConfig;
  store: Store;
  auth: Auth;
  log: Logger;
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
