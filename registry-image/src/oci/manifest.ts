/**
 * Reading a pushed manifest: which type it is, whether it is well-formed for that type, and
 * what it points at (blobs, child manifests, a subject). Pure functions; the handler decides
 * what to do with the answer.
 */
import { isDigest } from './digest';
import { DOCKER_SCHEMA1, IMAGE_MANIFEST_TYPES, INDEX_TYPES, isNonDistributable, OCI_INDEX, OCI_MANIFEST } from './media-types';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Blobs the repository must hold: config and distributable layers. */
  blobs: Descriptor[];
  /** Manifests the repository must hold: an index's children. */
  children: Descriptor[];
  subject?: Descriptor;
  /** For the referrers API: artifactType, else the config's media type (image spec). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Why a manifest was refused; the handler maps it to MANIFEST_INVALID. */
export class ManifestInvalid extends Error {}

function descriptor(value: unknown, where: string): Descriptor {
  if (!value || typeof value !== 'object') throw new ManifestInvalid(`${where} is not a descriptor object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw new ManifestInvalid(`${where}.mediaType is missing`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw new ManifestInvalid(`${where}.digest is not a valid digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new ManifestInvalid(`${where}.size is not a non-negative integer`);
  if (d.artifactType !== undefined && typeof d.artifactType !== 'string') throw new ManifestInvalid(`${where}.artifactType is not a string`);
  if (d.annotations !== undefined && !isStringMap(d.annotations)) throw new ManifestInvalid(`${where}.annotations is not a map of strings`);
  return d as unknown as Descriptor;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

function descriptorList(value: unknown, where: string): Descriptor[] {
  if (!Array.isArray(value)) throw new ManifestInvalid(`${where} is not an array`);
  return value.map((v, i) => descriptor(v, `${where}[${i}]`));
}

/**
 * Parses `body`, taking the media type from the body's `mediaType` field or, when the body
 * has none (Helm's manifests), from the request's Content-Type. The two must agree when both
 * are given (distribution spec: "Pushing Manifests").
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ManifestInvalid('manifest is not valid JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ManifestInvalid('manifest is not a JSON object');
  const m = json as Record<string, unknown>;
  const declared = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  const header = contentType?.split(';')[0].trim() || undefined;
  if (m.mediaType !== undefined && declared === undefined) throw new ManifestInvalid('mediaType is not a string');
  const mediaType = declared ?? header ?? guessType(m);
  if (declared && header && header !== declared && header !== 'application/json' && header !== 'application/octet-stream') {
    throw new ManifestInvalid(`mediaType ${declared} does not match Content-Type ${header}`);
  }
  if (DOCKER_SCHEMA1.includes(mediaType)) throw new ManifestInvalid('Docker schema 1 manifests are not supported; push schema 2 or OCI');
  // Any other type is refused, as distribution and zot refuse it. Stored, it would be served back
  // with its type as the Content-Type: `text/html` would make the registry's origin serve a page
  // the pusher wrote, and a type no header may carry (a line break, a character past Latin-1, or
  // one too long for the manifest's link record) would fail the push or every later pull.
  if (!IMAGE_MANIFEST_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    throw new ManifestInvalid(`media type ${JSON.stringify(mediaType.slice(0, 100))} is not a manifest type the registry stores (${[...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES].join(', ')})`);
  }

  const subject = m.subject === undefined ? undefined : descriptor(m.subject, 'subject');
  const annotations = m.annotations === undefined ? undefined : isStringMap(m.annotations) ? m.annotations : undefined;
  if (m.annotations !== undefined && !annotations) throw new ManifestInvalid('annotations is not a map of strings');
  if (m.artifactType !== undefined && typeof m.artifactType !== 'string') throw new ManifestInvalid('artifactType is not a string');

  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    if (m.schemaVersion !== 2) throw new ManifestInvalid('schemaVersion must be 2');
    const config = descriptor(m.config, 'config');
    const layers = m.layers === undefined && mediaType === OCI_MANIFEST ? [] : descriptorList(m.layers, 'layers');
    const blobs = [config, ...layers.filter((l) => !isNonDistributable(l.mediaType) && !l.urls?.length)];
    const artifactType = (m.artifactType as string | undefined) ?? config.mediaType;
    return { mediaType, blobs, children: [], subject, artifactType, annotations };
  }
  if (m.schemaVersion !== 2) throw new ManifestInvalid('schemaVersion must be 2');
  const children = descriptorList(m.manifests, 'manifests');
  return { mediaType, blobs: [], children, subject, artifactType: m.artifactType as string | undefined, annotations };
}

/** No mediaType field and no Content-Type: decide by shape, as clients would. */
function guessType(m: Record<string, unknown>): string {
  return Array.isArray(m.manifests) ? OCI_INDEX : OCI_MANIFEST;
}
