/** The benchmark starts perch with the Node.js flags of the Dockerfile's ENTRYPOINT. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageNodeFlags } from '../bench/servers/image-node-flags';
import { REPO_ROOT } from '../helpers/registry';

const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function repoWithDockerfile(text: string): string {
  const root = mkdtempSync(join(tmpdir(), 'perch-flags-'));
  roots.push(root);
  mkdirSync(join(root, 'registry-image'));
  writeFileSync(join(root, 'registry-image/Dockerfile'), text);
  return root;
}

describe('imageNodeFlags', () => {
  it("reads the project's Dockerfile: the heap flag the image runs with", () => {
    expect(imageNodeFlags(REPO_ROOT)).toEqual(['--initial-old-space-size=64']);
  });

  it('returns what sits between node and the bundle, and nothing when there is nothing', () => {
    expect(imageNodeFlags(repoWithDockerfile('FROM x\nENTRYPOINT ["node", "--a", "--b=1", "/app/perch.js"]\n'))).toEqual(['--a', '--b=1']);
    expect(imageNodeFlags(repoWithDockerfile('ENTRYPOINT ["node", "/app/perch.js"]'))).toEqual([]);
  });

  it('says what is wrong with an ENTRYPOINT it cannot read', () => {
    expect(() => imageNodeFlags(repoWithDockerfile('ENTRYPOINT node /app/perch.js\n'))).toThrow('has no ENTRYPOINT in JSON form');
    expect(() => imageNodeFlags(repoWithDockerfile('ENTRYPOINT ["/bin/sh", "-c", "x"]\n'))).toThrow('is not ["node", ...flags');
  });
});
