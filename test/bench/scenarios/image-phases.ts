/**
 * The push and pull phases shared by the image scenarios: every image through a pool of
 * `concurrency` images in flight over as many keep-alive connections, timed as a whole
 * (throughput) and per image (latency).
 */
import { HttpClient, type Credentials } from '../client/http';
import type { Image } from '../client/content';
import { runPool } from '../client/pool';
import { pullImage, pushImage } from '../client/registry-ops';

const MiB = 1024 * 1024;

export interface PhaseFigures {
  wallMs: number;
  mibPerSecond: number;
  imagesPerSecond: number;
  /** Per image, whole push or pull (ms). */
  imageMs: number[];
  /** Per image, the manifest request alone (ms). */
  manifestMs: number[];
  errors: Error[];
}

/** `url`: one server, or every replica of one (the client sends each request to the next). */
export function newClient(url: string | readonly string[], concurrency: number, credentials?: Credentials, recordLatencies = false): HttpClient {
  return new HttpClient(url, { maxSockets: concurrency, credentials, recordLatencies });
}

function bytesOf(images: readonly Image[]): number {
  return images.reduce((n, i) => n + i.blobBytes + i.manifest.length, 0);
}

async function phase(images: readonly Image[], concurrency: number, op: (img: Image) => Promise<{ totalMs: number; manifestMs: number }>): Promise<PhaseFigures> {
  const { results, errors, wallMs } = await runPool(images, concurrency, op);
  return {
    wallMs,
    mibPerSecond: bytesOf(images) / MiB / (wallMs / 1000),
    imagesPerSecond: images.length / (wallMs / 1000),
    imageMs: results.map((r) => r.totalMs),
    manifestMs: results.map((r) => r.manifestMs),
    errors,
  };
}

export function pushPhase(client: HttpClient, images: readonly Image[], concurrency: number): Promise<PhaseFigures> {
  return phase(images, concurrency, (img) => pushImage(client, img));
}

export function pullPhase(client: HttpClient, images: readonly Image[], concurrency: number): Promise<PhaseFigures> {
  return phase(images, concurrency, (img) => pullImage(client, img));
}

/** A few images pushed and pulled before the first timed run, so no server is measured cold. */
export async function warmUp(url: string | readonly string[], makeImages: () => Image[], credentials?: Credentials): Promise<void> {
  const client = newClient(url, 4, credentials);
  try {
    const images = makeImages();
    const push = await pushPhase(client, images, 4);
    const pull = await pullPhase(client, images, 4);
    const err = push.errors[0] ?? pull.errors[0];
    if (err) throw new Error(`warm-up against ${url} failed: ${err.message}`);
  } finally {
    client.close();
  }
}

/** Logs the first few errors of a phase; the tables count them. */
export function reportErrors(log: (m: string) => void, label: string, errors: readonly Error[]): void {
  for (const err of errors.slice(0, 3)) log(`    ${label} error: ${err.message}`);
  if (errors.length > 3) log(`    ${label}: ${errors.length - 3} more errors`);
}
