/**
 * The Node.js flags the image starts perch with, read from registry-image/Dockerfile's
 * ENTRYPOINT (`["node", ...flags, "/app/perch.js"]`), so the benchmark measures perch as it
 * runs in a cluster and the Dockerfile stays the one place that decides them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function imageNodeFlags(repoRoot: string): string[] {
  const dockerfile = readFileSync(join(repoRoot, 'registry-image/Dockerfile'), 'utf8');
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!line) throw new Error('registry-image/Dockerfile has no ENTRYPOINT in JSON form');
  const argv = JSON.parse(line[1]) as string[];
  const bundle = argv.findIndex((arg) => arg.endsWith('perch.js'));
  if (argv[0] !== 'node' || bundle < 0) throw new Error(`registry-image/Dockerfile's ENTRYPOINT ${line[1]} is not ["node", ...flags, ".../perch.js"]`);
  return argv.slice(1, bundle);
}
