/**
 * What a stored manifest is, for people: an image, an index of platforms, a Helm chart or
 * some other artifact, with its config, layers, children and subject as plain data. Pure: the
 * manifest was checked when it was pushed (oci/manifest.ts), but fields the push did not need
 * (an index child's platform, a layer's title) are read defensively here.
 */
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES } from '../oci/media-types';
import type { StoredManifest } from '../storage/types';

/** Helm's config media type (helm pkg/registry/constants.go ConfigMediaType). */
export const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
/** Config media types of container images (image spec "Image Configuration", Docker v2.2). */
export const IMAGE_CONFIG_MEDIA_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

export type ArtifactKind = 'image' | 'index' | 'helm-chart' | 'artifact';

export interface BlobRef {
  mediaType: string;
  digest: string;
  size: number;
}

export interface LayerFacts extends BlobRef {
  /** org.opencontainers.image.title: the file name an artifact layer had (oras, helm). */
  title?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
}

export interface ChildFacts extends BlobRef {
  platform?: Platform;
  artifactType?: string;
  /**
   * BuildKit attestations sit in an index as children with platform unknown/unknown and
   * `vnd.docker.reference.type: attestation-manifest`; they are not a platform anyone pulls.
   */
  attestation?: boolean;
}

export interface ManifestFacts {
  kind: ArtifactKind;
  mediaType: string;
  artifactType?: string;
  config?: BlobRef;
  layers: LayerFacts[];
  children: ChildFacts[];
  subject?: string;
  annotations?: Record<string, string>;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

function blobRef(value: unknown): BlobRef | undefined {
  if (!isObject(value)) return undefined;
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || typeof digest !== 'string' || typeof size !== 'number') return undefined;
  return { mediaType, digest, size };
}

export function platformOf(value: unknown): Platform | undefined {
  if (!isObject(value)) return undefined;
  const os = str(value.os);
  const architecture = str(value.architecture);
  if (!os || !architecture) return undefined;
  const platform: Platform = { os, architecture };
  const variant = str(value.variant);
  if (variant) platform.variant = variant;
  const osVersion = str(value['os.version']);
  if (osVersion) platform.osVersion = osVersion;
  return platform;
}

/** "linux/arm64/v8", as docker --platform writes it. */
export function platformName(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function childFacts(value: unknown): ChildFacts | undefined {
  const ref = blobRef(value);
  if (!ref) return undefined;
  const d = value as Json;
  const child: ChildFacts = { ...ref };
  const platform = platformOf(d.platform);
  if (platform) child.platform = platform;
  const artifactType = str(d.artifactType);
  if (artifactType) child.artifactType = artifactType;
  if (stringMap(d.annotations)?.['vnd.docker.reference.type'] === 'attestation-manifest') child.attestation = true;
  return child;
}

function layerFacts(value: unknown): LayerFacts | undefined {
  const ref = blobRef(value);
  if (!ref) return undefined;
  const title = stringMap((value as Json).annotations)?.['org.opencontainers.image.title'];
  return title ? { ...ref, title } : ref;
}

function list<T>(value: unknown, read: (v: unknown) => T | undefined): T[] {
  return Array.isArray(value) ? value.map(read).filter((v): v is T => v !== undefined) : [];
}

export function manifestFacts(manifest: StoredManifest): ManifestFacts {
  let json: Json = {};
  try {
    const parsed: unknown = JSON.parse(manifest.body.toString('utf8'));
    if (isObject(parsed)) json = parsed;
  } catch {
    // Stored as pushed; a body that is not JSON is shown as an artifact with nothing inside.
  }
  const { mediaType } = manifest;
  const config = blobRef(json.config);
  const facts: ManifestFacts = { kind: 'artifact', mediaType, layers: [], children: [] };
  const artifactType = str(json.artifactType);
  if (artifactType) facts.artifactType = artifactType;
  const subject = blobRef(json.subject);
  if (subject) facts.subject = subject.digest;
  const annotations = stringMap(json.annotations);
  if (annotations) facts.annotations = annotations;
  if (INDEX_TYPES.has(mediaType)) {
    facts.kind = 'index';
    facts.children = list(json.manifests, childFacts);
    return facts;
  }
  if (config) facts.config = config;
  facts.layers = list(json.layers, layerFacts);
  if (IMAGE_MANIFEST_TYPES.has(mediaType) && config) {
    if (config.mediaType === HELM_CONFIG_MEDIA_TYPE) facts.kind = 'helm-chart';
    else if (IMAGE_CONFIG_MEDIA_TYPES.has(config.mediaType) && !artifactType) facts.kind = 'image';
  }
  return facts;
}

/** Bytes a pull of this manifest alone fetches: the manifest, its config and its layers. */
export function ownBytes(manifest: StoredManifest, facts: ManifestFacts): number {
  return manifest.body.length + (facts.config?.size ?? 0) + facts.layers.reduce((sum, l) => sum + l.size, 0);
}
