/**
 * Pushes one Helm artifact, doing nothing that is already done:
 *   1. HEAD the manifest by tag; the same digest there -> done, nothing uploaded, no PUT
 *   2. for the config and the chart layer: HEAD the blob; upload only a missing one
 *   3. PUT the manifest at the tag
 * So a second `perch seed` against a seeded registry sends one HEAD per chart and no more.
 */
import type { HelmArtifact } from './helm-artifact';
import { HELM_MANIFEST_MEDIA_TYPE } from './helm-artifact';
import type { RegistryClient } from './registry-client';
import { SeedError } from './errors';

export type PushOutcome =
  /** The tag already held this manifest. */
  | 'present'
  /** The tag was new. */
  | 'pushed'
  /** The tag held another manifest; it now holds this one. */
  | 'replaced';

export interface PushResult {
  outcome: PushOutcome;
  /** The digest the tag held before, when replaced. */
  previous?: string;
  blobsUploaded: number;
}

export async function pushArtifact(client: RegistryClient, artifact: HelmArtifact): Promise<PushResult> {
  const { repository, tag } = artifact;
  const current = await client.manifestDigest(repository, tag);
  if (current === artifact.manifestDigest) return { outcome: 'present', blobsUploaded: 0 };
  let blobsUploaded = 0;
  for (const blob of [artifact.config, artifact.layer]) {
    if (await client.hasBlob(repository, blob.digest)) continue;
    await client.uploadBlob(repository, blob.digest, blob.data);
    blobsUploaded++;
  }
  const stored = await client.putManifest(repository, tag, HELM_MANIFEST_MEDIA_TYPE, artifact.manifest);
  if (stored && stored !== artifact.manifestDigest) {
    throw new SeedError(
      'protocol',
      `the registry stored ${repository}:${tag} as ${stored}, but the manifest sent has digest ${artifact.manifestDigest}: it changed the manifest, which Helm clients would not expect`,
    );
  }
  return current === undefined ? { outcome: 'pushed', blobsUploaded } : { outcome: 'replaced', previous: current, blobsUploaded };
}
