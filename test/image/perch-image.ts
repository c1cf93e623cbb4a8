/**
 * Builds registry-image/Dockerfile the way the README tells people to (`buildah bud -f
 * registry-image/Dockerfile .` from the repository root), with one difference: the base image
 * argument names the stand-in made from the machine's Node.js (standin-base.ts), because no
 * public image can be pulled here. Every line of the Dockerfile runs as written.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/registry';
import { createBuildah, type Buildah } from './buildah';
import { prepareStandinContext } from './standin-base';

export const DOCKERFILE = join(REPO_ROOT, 'registry-image/Dockerfile');

export interface BuiltImage {
  buildah: Buildah;
  /** The image's name in the private buildah store. */
  tag: string;
  baseTag: string;
  nodeVersion: string;
  /** Milliseconds per step: standin (rootfs), base (image), build (the Dockerfile). */
  timings: Record<string, number>;
  buildOutput: string;
}

export async function buildPerchImage(dir: string): Promise<BuiltImage> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const standin = prepareStandinContext();
  timings.standinRootfs = Date.now() - t;

  const buildah = createBuildah(dir);
  const baseTag = `localhost/perch-node-standin:${standin.key.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}`;
  const base = await buildah.bud({ dockerfile: join(standin.dir, 'Dockerfile'), context: standin.dir, tag: baseTag });
  timings.baseImage = base.ms;

  const tag = 'localhost/perch:image-test';
  t = Date.now();
  const built = await buildah.bud({
    dockerfile: DOCKERFILE,
    context: REPO_ROOT,
    tag,
    buildArgs: { NODE_IMAGE: baseTag },
  });
  timings.dockerfile = Date.now() - t;
  return { buildah, tag, baseTag, nodeVersion: standin.nodeVersion, timings, buildOutput: built.stdout + built.stderr };
}
