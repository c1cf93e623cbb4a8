/**
 * perch's JavaScript client library: push and pull OCI artifacts and Helm charts, list tags,
 * repositories and referrers, delete manifests, against any OCI Distribution registry
 * (perch, zot, distribution, ...). See docs/client.md for examples.
 *
 *   const client = new RegistryClient('http://localhost:5000', { username, password });
 *   await client.pushArtifact('team/tools', 'v1', { artifactType, files: [{ path }] });
 *   await client.pullArtifact('team/tools', 'v1', { directory: '/tmp/out' });
 *   await client.pushChart('charts', 'mychart-0.1.0.tgz');   // as `helm push` does
 *   await client.pullChart('charts/mychart', '0.1.0', '/tmp/out');
 *
 * Names follow oras and helm: an artifact is a manifest whose layers are files, each named by
 * its org.opencontainers.image.title annotation; a chart lives at <namespace>/<chart name>
 * with its version as the tag. Every byte pulled is checked against its digest first.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { isDigest } from '../oci/digest';
import { OCI_MANIFEST } from '../oci/media-types';
import { isRepositoryName, isTag } from '../oci/names';
import { blobSource, digestBuffer, openBlob, pushBlob, readBlob, saveVerified, blobExists, type Descriptor, type FileInput } from './blobs';
import { chartMetadataFromArchive } from './chart-archive';
import { helmConfigJson, type ChartMetadata } from './chart-metadata';
import { RegistryError } from './errors';
import { goJson } from './go-json';
import { HELM_CHART_MEDIA_TYPE, HELM_CONFIG_MEDIA_TYPE, HELM_MANIFEST_MEDIA_TYPE, helmAnnotations, helmTag, rfc3339 } from './helm-chart';
import { nodeTransport, type Transport } from './http-transport';
import { deleteManifest, fetchManifest, listRepositories, listTags, putManifest, referrers, resolveManifest, type FetchedManifest } from './manifests';
import { parseRegistryEndpoint } from './registry-endpoint';
import { Session } from './session';

export interface RegistryClientOptions {
  username?: string;
  password?: string;
  /** A registry token sent as `Authorization: Bearer` on every request (instead of username/password). */
  token?: string;
  /** CA certificate(s), PEM, to trust for https besides Node's own (NODE_EXTRA_CA_CERTS also works). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Skip TLS verification, and allow plain HTTP to hosts that are not loopback. */
  insecure?: boolean;
  /** Idle limit per request, in ms (default 60 s). */
  timeoutMs?: number;
  /** Default "perch-client". */
  userAgent?: string;
  /** Replace node:http (tests). */
  transport?: Transport;
}

export interface PushArtifactOptions {
  /** Default application/vnd.unknown.artifact.v1, as oras. */
  artifactType?: string;
  files: FileInput[];
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** A config blob; default the empty descriptor ({}, application/vnd.oci.empty.v1+json). */
  config?: { mediaType: string; data: Buffer | string };
  /** The manifest this one refers to (a signature, an SBOM): found again through referrers(). */
  subject?: Descriptor;
}

export interface PushedArtifact extends Descriptor {
  /** host/repository:tag, or host/repository@digest when pushed without a tag. */
  reference: string;
  manifest: Record<string, unknown>;
  /** How many blobs were sent (the others were there already). */
  blobsUploaded: number;
}

export interface PulledFile extends Descriptor {
  /** The org.opencontainers.image.title annotation, if the layer has one. */
  title?: string;
  /** Where it was saved, when pulled to a directory (untitled layers are not saved). */
  path?: string;
  /** The bytes as a stream that fails, instead of ending, if they are not the digest's. */
  open(): Promise<Readable>;
  /** The verified bytes in memory (for small files). */
  bytes(): Promise<Buffer>;
}

export interface PulledArtifact {
  digest: string;
  mediaType: string;
  artifactType?: string;
  annotations: Record<string, string>;
  manifest: Record<string, unknown>;
  config: Descriptor;
  files: PulledFile[];
}

export interface PushedChart {
  name: string;
  version: string;
  /** namespace/name: where helm finds it (oci://host/namespace/name). */
  repository: string;
  tag: string;
  digest: string;
  /** host/namespace/name:tag */
  reference: string;
}

export interface PulledChart {
  name: string;
  version: string;
  digest: string;
  /** The .tgz written, <directory>/<name>-<version>.tgz as `helm pull` names it. */
  path: string;
  /** The chart metadata from the config blob (Chart.yaml as JSON). */
  metadata: ChartMetadata;
}

export const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const DEFAULT_ARTIFACT_TYPE = 'application/vnd.unknown.artifact.v1';
export const DEFAULT_FILE_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const TITLE = 'org.opencontainers.image.title';
/** Layer media types a Helm chart's content has had (today's, and Helm 3.0's). */
const CHART_LAYER_TYPES = new Set([HELM_CHART_MEDIA_TYPE, 'application/tar+gzip']);

export class RegistryClient {
  private readonly session: Session;
  private readonly transport: Transport & { close?(): void };

  /** `registry`: http://host:port, https://host, or host[:port] (plain HTTP for loopback, else https). */
  constructor(registry: string, options: RegistryClientOptions = {}) {
    const endpoint = (() => {
      try {
        return parseRegistryEndpoint(registry, options.insecure ?? false, 'the registry address', {
          insecure: 'pass { insecure: true }',
          credentials: 'pass { username, password } in the options instead',
          path: 'repositories are named in each call',
        });
      } catch (err) {
        throw new RegistryError('invalid', (err as Error).message);
      }
    })();
    if (options.token !== undefined && (options.username !== undefined || options.password !== undefined)) {
      throw new RegistryError('invalid', 'pass either { username, password } or { token }, not both');
    }
    if ((options.username === undefined) !== (options.password === undefined)) {
      throw new RegistryError('invalid', 'username and password go together: pass both, or neither for anonymous access');
    }
    const credentials = options.token !== undefined ? { token: options.token } : options.username !== undefined ? { username: options.username, password: options.password! } : undefined;
    this.transport = options.transport ?? nodeTransport({ insecureTls: options.insecure ?? false, ca: options.ca, userAgent: options.userAgent ?? 'perch-client' });
    this.session = new Session(endpoint, credentials, this.transport, options.timeoutMs ?? 60_000);
  }

  /** host[:port], as references name the registry. */
  get host(): string {
    return this.session.endpoint.host;
  }

  /** Closes kept-alive connections; the client can still be used afterwards. */
  close(): void {
    this.transport.close?.();
  }

  // --- artifacts ------------------------------------------------------------------------

  /** Pushes files as an OCI artifact (image manifest v1.1 with artifactType), tagged `tag` (or untagged with null). */
  async pushArtifact(repository: string, tag: string | null, options: PushArtifactOptions): Promise<PushedArtifact> {
    checkRepository(repository);
    if (tag !== null) checkTag(tag);
    if (!Array.isArray(options.files)) throw new RegistryError('invalid', 'pushArtifact needs { files: [...] } (it may be empty)');
    let blobsUploaded = 0;
    const layers: Descriptor[] = [];
    for (const [i, file] of options.files.entries()) {
      const source = await blobSource(file, `files[${i}]`);
      const pushed = await pushBlob(this.session, repository, source);
      if (pushed.uploaded) blobsUploaded++;
      const title = file.title ?? (file.path !== undefined ? file.path.split(/[\\/]/).pop() : undefined);
      const annotations = { ...(file.annotations ?? {}), ...(title ? { [TITLE]: title } : {}) };
      layers.push({ mediaType: file.mediaType ?? DEFAULT_FILE_MEDIA_TYPE, digest: pushed.digest, size: pushed.size, ...(Object.keys(annotations).length ? { annotations } : {}) });
    }
    const configData = options.config ? Buffer.from(options.config.data) : Buffer.from('{}');
    const configType = options.config?.mediaType ?? EMPTY_CONFIG_MEDIA_TYPE;
    const configBlob = await pushBlob(this.session, repository, { kind: 'buffer', data: configData, digest: digestBuffer(configData), size: configData.length });
    if (configBlob.uploaded) blobsUploaded++;
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: options.artifactType ?? DEFAULT_ARTIFACT_TYPE,
      config: { mediaType: configType, digest: configBlob.digest, size: configBlob.size, ...(configType === EMPTY_CONFIG_MEDIA_TYPE ? { data: configData.toString('base64') } : {}) },
      layers: layers.length > 0 ? layers : [],
      ...(options.subject ? { subject: { mediaType: options.subject.mediaType, digest: options.subject.digest, size: options.subject.size } } : {}),
      ...(options.annotations && Object.keys(options.annotations).length ? { annotations: options.annotations } : {}),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = digestBuffer(bytes);
    await putManifest(this.session, repository, tag ?? digest, OCI_MANIFEST, bytes, digest);
    return {
      mediaType: OCI_MANIFEST,
      digest,
      size: bytes.length,
      artifactType: manifest.artifactType as string,
      reference: tag === null ? `${this.host}/${repository}@${digest}` : `${this.host}/${repository}:${tag}`,
      manifest,
      blobsUploaded,
    };
  }

  /**
   * Fetches an artifact's manifest (verified) and describes its files. With `directory`, saves
   * every titled file there (verified, then renamed into place); otherwise open() each file.
   */
  async pullArtifact(repository: string, reference: string, options: { directory?: string } = {}): Promise<PulledArtifact> {
    checkRepository(repository);
    checkReference(reference);
    const fetched = await fetchManifest(this.session, repository, reference);
    const manifest = imageManifest(fetched, `${repository}:${reference}`);
    const files: PulledFile[] = manifest.layers.map((layer) => {
      const title = layer.annotations?.[TITLE];
      const open = () => openBlob(this.session, repository, layer.digest, layer.size);
      return { ...layer, title, open, bytes: async () => readBlob(this.session, repository, layer.digest, layer.size, Number.MAX_SAFE_INTEGER) };
    });
    if (options.directory !== undefined) {
      const dir = resolve(options.directory);
      await mkdir(dir, { recursive: true });
      for (const file of files) {
        if (!file.title) continue;
        const target = safeJoin(dir, file.title, `${repository}:${reference}`);
        await mkdir(resolve(target, '..'), { recursive: true });
        await saveVerified(await file.open(), target);
        file.path = target;
      }
    }
    return {
      digest: fetched.digest,
      mediaType: fetched.mediaType,
      artifactType: (fetched.manifest.artifactType as string | undefined) ?? manifest.config.mediaType,
      annotations: (fetched.manifest.annotations as Record<string, string> | undefined) ?? {},
      manifest: fetched.manifest,
      config: manifest.config,
      files,
    };
  }

  // --- charts ---------------------------------------------------------------------------

  /**
   * Pushes a packaged chart (.tgz path or its bytes) as `helm push <chart> oci://host/<namespace>`
   * does: to <namespace>/<chart name>, tagged with its version ("+" as "_"), with Helm's config,
   * layer and annotations. `created` defaults to the file's mtime (Helm's choice), else now.
   */
  async pushChart(namespace: string, chart: string | Buffer, options: { created?: Date } = {}): Promise<PushedChart> {
    checkRepository(namespace);
    const where = typeof chart === 'string' ? chart : 'the chart archive';
    let archive: Buffer;
    let created = options.created;
    if (typeof chart === 'string') {
      try {
        archive = await readFile(chart);
        created ??= (await stat(chart)).mtime;
      } catch (err) {
        throw new RegistryError('invalid', `cannot read the chart ${chart}: ${(err as Error).message}`, { cause: err });
      }
    } else {
      archive = chart;
    }
    const metadata = chartMetadataFromArchive(archive, where);
    const repository = `${namespace}/${metadata.name}`;
    checkRepository(repository);
    const tag = helmTag(metadata.version);
    const config = Buffer.from(helmConfigJson(metadata));
    const configBlob = await pushBlob(this.session, repository, { kind: 'buffer', data: config, digest: digestBuffer(config), size: config.length });
    const layerBlob = await pushBlob(this.session, repository, { kind: 'buffer', data: archive, digest: digestBuffer(archive), size: archive.length });
    const bytes = Buffer.from(
      goJson({
        schemaVersion: 2,
        config: { mediaType: HELM_CONFIG_MEDIA_TYPE, digest: configBlob.digest, size: configBlob.size },
        layers: [{ mediaType: HELM_CHART_MEDIA_TYPE, digest: layerBlob.digest, size: layerBlob.size }],
        annotations: helmAnnotations(metadata, rfc3339(created ?? new Date())),
      }),
    );
    const digest = digestBuffer(bytes);
    await putManifest(this.session, repository, tag, HELM_MANIFEST_MEDIA_TYPE, bytes, digest);
    return { name: metadata.name, version: metadata.version, repository, tag, digest, reference: `${this.host}/${repository}:${tag}` };
  }

  /** Saves a chart as `helm pull oci://host/<repository> --version <version> -d <directory>` does, verified. */
  async pullChart(repository: string, version: string, directory: string): Promise<PulledChart> {
    checkRepository(repository);
    const reference = isDigest(version) ? version : helmTag(version);
    checkReference(reference);
    const fetched = await fetchManifest(this.session, repository, reference);
    const manifest = imageManifest(fetched, `${repository}:${reference}`);
    if (manifest.config.mediaType !== HELM_CONFIG_MEDIA_TYPE) {
      throw new RegistryError('invalid', `${repository}:${reference} is not a Helm chart: its config is ${manifest.config.mediaType}, not ${HELM_CONFIG_MEDIA_TYPE}; use pullArtifact for other artifacts`);
    }
    const layer = manifest.layers.find((l) => CHART_LAYER_TYPES.has(l.mediaType));
    if (!layer) throw new RegistryError('invalid', `${repository}:${reference} has a Helm config but no ${HELM_CHART_MEDIA_TYPE} layer`);
    const configBytes = await readBlob(this.session, repository, manifest.config.digest, manifest.config.size);
    let metadata: ChartMetadata;
    try {
      metadata = JSON.parse(configBytes.toString('utf8')) as ChartMetadata;
    } catch {
      throw new RegistryError('protocol', `the Helm config of ${repository}:${reference} is not JSON`);
    }
    if (typeof metadata.name !== 'string' || typeof metadata.version !== 'string' || /[\\/]|^\.\.?$/.test(metadata.name) || /[\\/]/.test(metadata.version)) {
      throw new RegistryError('protocol', `the Helm config of ${repository}:${reference} has no usable name and version`);
    }
    const dir = resolve(directory);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${metadata.name}-${metadata.version}.tgz`);
    await saveVerified(await openBlob(this.session, repository, layer.digest, layer.size), path);
    return { name: metadata.name, version: metadata.version, digest: fetched.digest, path, metadata };
  }

  // --- manifests, tags, discovery ---------------------------------------------------------

  /** The manifest a tag or digest names, verified against its digest. */
  async getManifest(repository: string, reference: string): Promise<{ digest: string; mediaType: string; manifest: Record<string, unknown>; bytes: Buffer }> {
    checkRepository(repository);
    checkReference(reference);
    return fetchManifest(this.session, repository, reference);
  }

  /** The descriptor a tag or digest names (HEAD), or undefined when there is none. */
  async resolve(repository: string, reference: string): Promise<Descriptor | undefined> {
    checkRepository(repository);
    checkReference(reference);
    return resolveManifest(this.session, repository, reference);
  }

  /** Puts another tag on what `reference` names (the manifest's bytes, unchanged). */
  async tag(repository: string, reference: string, newTag: string): Promise<Descriptor> {
    checkTag(newTag);
    const fetched = await this.getManifest(repository, reference);
    await putManifest(this.session, repository, newTag, fetched.mediaType, fetched.bytes, fetched.digest);
    return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  }

  /** Every tag of a repository (all pages). */
  async listTags(repository: string): Promise<string[]> {
    checkRepository(repository);
    return listTags(this.session, repository);
  }

  /** Every repository the registry lists to these credentials (all pages of /v2/_catalog). */
  async listRepositories(): Promise<string[]> {
    return listRepositories(this.session);
  }

  /** The manifests that name `digest` as their subject, optionally of one artifactType. */
  async referrers(repository: string, digest: string, options: { artifactType?: string } = {}): Promise<Descriptor[]> {
    checkRepository(repository);
    return referrers(this.session, repository, digest, options.artifactType);
  }

  /** Deletes a manifest by digest, or the manifest a tag names (and so every tag on it); returns the digest deleted. */
  async deleteManifest(repository: string, reference: string): Promise<string> {
    checkRepository(repository);
    checkReference(reference);
    return deleteManifest(this.session, repository, reference);
  }

  // --- blobs ----------------------------------------------------------------------------

  /** Pushes one blob (unless present); returns its descriptor. */
  async pushBlob(repository: string, input: FileInput): Promise<Descriptor> {
    checkRepository(repository);
    const pushed = await pushBlob(this.session, repository, await blobSource(input, 'pushBlob'));
    return { mediaType: input.mediaType ?? 'application/octet-stream', digest: pushed.digest, size: pushed.size };
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    return blobExists(this.session, repository, digest);
  }

  /** A blob as a stream that fails, instead of ending, if its bytes are not `digest` (or not `size` long). */
  async openBlob(repository: string, digest: string, size?: number): Promise<Readable> {
    checkRepository(repository);
    return openBlob(this.session, repository, digest, size);
  }
}

function checkRepository(name: string): void {
  if (!isRepositoryName(name)) {
    throw new RegistryError('invalid', `${JSON.stringify(name)} is not a repository name: lower-case letters, digits and . _ - separators, path components joined by / (e.g. team/tools)`);
  }
}

function checkTag(tag: string): void {
  if (!isTag(tag)) throw new RegistryError('invalid', `${JSON.stringify(tag)} is not a tag: up to 128 letters, digits, _ . - , not starting with . or -`);
}

function checkReference(reference: string): void {
  if (!isDigest(reference) && !isTag(reference)) throw new RegistryError('invalid', `${JSON.stringify(reference)} is neither a tag nor a digest (sha256:...)`);
}

interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

function imageManifest(fetched: FetchedManifest, what: string): ImageManifest {
  const m = fetched.manifest as { config?: Descriptor; layers?: Descriptor[]; manifests?: unknown };
  if (Array.isArray(m.manifests)) throw new RegistryError('invalid', `${what} is an index (a multi-platform image or a list), not an artifact: pull one of its manifests by digest`);
  if (!m.config || !Array.isArray(m.layers)) throw new RegistryError('protocol', `${what} is not an image manifest (no config or layers)`);
  for (const d of [m.config, ...m.layers]) {
    if (typeof d.digest !== 'string' || !isDigest(d.digest) || typeof d.size !== 'number') throw new RegistryError('protocol', `${what} has a descriptor without a valid digest and size`);
  }
  return { config: m.config, layers: m.layers };
}

/** `title` under `dir`, refusing absolute paths and any that climb out (a hostile manifest must not write elsewhere). */
function safeJoin(dir: string, title: string, what: string): string {
  const target = resolve(dir, normalize(title));
  if (isAbsolute(title) || !(target + sep).startsWith(dir + sep) || target === dir) {
    throw new RegistryError('invalid', `${what} has a file titled ${JSON.stringify(title)}, which would land outside ${dir}; refused`);
  }
  return target;
}
