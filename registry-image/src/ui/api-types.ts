/**
 * The JSON the browse UI's data endpoints answer with (api-handlers.ts): what the OCI API
 * cannot say in one request (push dates, sizes, platforms, chart metadata). The page's script
 * (assets/script.ts) reads exactly these fields; change both together.
 */
import type { ArtifactKind, BlobRef, ChildFacts, LayerFacts, Platform } from './artifact';
import type { ChartView } from './helm-chart';

/** Every answer says who is looking, so the page can offer "Sign in" to anonymous readers. */
export interface Viewer {
  /** Who the registry thinks is calling; null for an anonymous caller. */
  user: string | null;
  /** Whether the registry has logins at all (htpasswd, LDAP or OpenID providers). */
  login: boolean;
  /** OpenID providers the sign-in page offers ("Sign in with <name>"); empty without http.auth.openid. */
  providers: Array<{ id: string; name: string }>;
  /** Signed in with the UI's session cookie (after an OpenID sign-in): the page offers "Sign out". */
  session: boolean;
}

/** GET /_ui/api/repositories */
export interface RepositoriesView extends Viewer {
  repositories: RepositoryRow[];
}

export interface RepositoryRow {
  name: string;
  tags: number;
  /** The newest tag's push time (ms since the epoch); null without tags. */
  lastPushedMs: number | null;
}

/** GET /_ui/api/repositories/<name>/tags/list */
export interface TagsView extends Viewer {
  repository: string;
  tags: TagRow[];
}

export interface TagRow {
  tag: string;
  digest: string;
  mediaType: string;
  kind: ArtifactKind;
  artifactType?: string;
  /** Bytes a pull fetches (artifact-size.ts). */
  size: number;
  /** When the tag was last pushed (ms since the epoch). */
  pushedMs: number;
  /** For an index: its platforms, e.g. "linux/amd64". */
  platforms: string[];
  pull: string;
}

/** GET /_ui/api/repositories/<name>/manifests/<reference> */
export interface ManifestView extends Viewer {
  repository: string;
  reference: string;
  digest: string;
  mediaType: string;
  kind: ArtifactKind;
  artifactType?: string;
  /** The manifest's own bytes. */
  manifestSize: number;
  /** Bytes a pull fetches. */
  size: number;
  /** Set when the reference is a tag. */
  pushedMs?: number;
  /** Every tag that points at this digest. */
  tags: string[];
  annotations?: Record<string, string>;
  config?: BlobRef;
  layers: LayerFacts[];
  /** An image's own platform, from its config blob. */
  platform?: Platform;
  /** An image's creation time, from its config blob (as written there, RFC 3339). */
  created?: string;
  /** An index's children, each with its platform and the bytes a pull of it fetches. */
  children: Array<ChildFacts & { pullSize: number }>;
  chart?: ChartView;
  /** Manifests whose subject is this one (signatures, SBOMs, ...). */
  referrers: Array<{ digest: string; mediaType: string; artifactType?: string; size: number; annotations?: Record<string, string> }>;
  /** The manifest this one refers to, when it is itself a referrer. */
  subject?: string;
  pull: string;
}
