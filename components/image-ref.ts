/**
 * Container image references as the Deployment and Jobs use them. The registry image must be
 * pinned (a tag other than `latest`, or a digest) because the Pod spec pulls IfNotPresent: a
 * moving tag would leave each node running whatever it cached first.
 */
import { ConfigError } from './config-error';

export interface ImageRef {
  /** Everything before the tag/digest, e.g. `ghcr.io/project-zot/zot`. */
  repository: string;
  tag?: string;
  digest?: string;
}

// distribution/reference grammar, reduced to what a user types: lower-case path components
// separated by '/', an optional registry host with port, ':tag' and/or '@sha256:...'.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_COMPONENT = /^[a-zA-Z0-9.-]+(?::\d+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export function parseImageRef(key: string, ref: string): ImageRef {
  const bad = (why: string): never => {
    throw new ConfigError(key, `"${ref}" is not an image reference: ${why} (e.g. perch:0.1.0 or ghcr.io/project-zot/zot:v2.1.20)`);
  };
  if (ref === '' || /\s/.test(ref)) bad('it is empty or contains whitespace');
  const [nameAndTag, digest, ...extra] = ref.split('@');
  if (extra.length > 0 || (digest !== undefined && !DIGEST.test(digest))) bad('the digest after @ is malformed');
  const lastSlash = nameAndTag!.lastIndexOf('/');
  const lastColon = nameAndTag!.lastIndexOf(':');
  const hasTag = lastColon > lastSlash;
  const repository = hasTag ? nameAndTag!.slice(0, lastColon) : nameAndTag!;
  const tag = hasTag ? nameAndTag!.slice(lastColon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) bad(`the tag "${tag}" is malformed`);
  const parts = repository.split('/');
  // A first component with '.', ':' or "localhost" is a registry host (docker's rule).
  const first = parts[0]!;
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost && !HOST_COMPONENT.test(first)) bad(`the registry host "${first}" is malformed`);
  for (const part of hasHost ? parts.slice(1) : parts) {
    if (!COMPONENT.test(part)) bad(`"${part}" is not a lower-case repository path component`);
  }
  const parsed: ImageRef = { repository };
  if (tag !== undefined) parsed.tag = tag;
  if (digest !== undefined) parsed.digest = digest;
  return parsed;
}

/** Parses and insists on a pin: a versioned tag or a digest, never `latest` or no tag. */
export function pinnedImage(key: string, ref: string): ImageRef {
  const parsed = parseImageRef(key, ref);
  if (parsed.digest === undefined && (parsed.tag === undefined || parsed.tag === 'latest')) {
    throw new ConfigError(
      key,
      `"${ref}" is not pinned; the Pod pulls IfNotPresent, so give a versioned tag or a digest (e.g. ${parsed.repository}:0.1.0), never latest`,
    );
  }
  return parsed;
}

/**
 * Is this perch's image? Token mode and the `perch` config section need perch; upstream zot
 * refuses the section. Decided by the repository's last path component, so a perch image
 * mirrored to any registry (registry.local/tools/perch:0.1.0) still counts.
 */
export function isPerchImage(ref: ImageRef): boolean {
  const name = ref.repository.split('/').pop();
  return name === 'perch';
}
