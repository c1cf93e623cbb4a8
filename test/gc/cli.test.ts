/**
 * `perch gc [--dry-run] CONFIG` (cli/gc.ts), run from the bundle the image ships: the dry
 * run's lines checked against what the real run then removes, on storage the bundled server
 * filled over HTTP; and its refusals (in-process, through runGc).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGc } from '../../registry-image/src/cli/gc';
import { PERCH_BUNDLE, startRegistry } from '../helpers/registry';
import { runCommand } from '../helpers/run-command';
import { abandonUpload, contentBytesOnDisk, manifestStatus, pullWhole, pushBlob, pushImage, pushIndex, pushReferrer, randomBlob, sleep } from './registry-client';
import { tempDir } from '../helpers/temp-dir';

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (s: string) => ((out.stdout += s), true) } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((out.stderr += s), true) } as unknown as NodeJS.WritableStream,
  };
  return { out, io };
}

function writeConfig(root: string, extra: Record<string, unknown> = {}): string {
  const path = join(tempDir('perch-gc-config-'), 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      distSpecVersion: '1.1.1',
      storage: { rootDirectory: root, gc: true, gcDelay: '1s', gcInterval: '1h', ...extra },
      http: { address: '127.0.0.1', port: '5000' },
      perch: { uploadTTL: '1s' },
    }),
  );
  return path;
}

describe('perch gc', () => {
  it('the bundle\'s --dry-run prints exactly what the real run then removes, with the bytes freed', async () => {
    const server = await startRegistry({ config: { storage: { gc: true, gcDelay: '1s', gcInterval: '1h' }, perch: { uploadTTL: '1s' } } });
    const root = server.dataDir;
    let base = server.url;
    const keep = await pushImage(base, 'cli/app', 'v1', [randomBlob(2000)]);
    const c1 = await pushImage(base, 'cli/app', undefined, [randomBlob(300)]);
    const index = await pushIndex(base, 'cli/app', 'multi', [c1]);
    const sig = await pushReferrer(base, 'cli/app', keep);
    const untagged = await pushImage(base, 'cli/app', undefined, [randomBlob(1500)]);
    const orphan = randomBlob(4096);
    await pushBlob(base, 'cli/other', orphan);
    await abandonUpload(base, 'cli/app', 700);
    await server.stop();
    await sleep(1300);

    const perchGc = (...args: string[]) => runCommand(process.execPath, [PERCH_BUNDLE, 'gc', ...args, server.configPath]);
    const before = await contentBytesOnDisk(root);
    const dry = await perchGc('--dry-run');
    expect(await contentBytesOnDisk(root)).toBe(before); // a dry run changes nothing
    const real = await perchGc();

    const lines = (text: string, verb: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${verb} `))
        .map((l) => l.slice(verb.length + 1));
    const dryLines = lines(dry.stdout, 'would remove');
    expect(dryLines.length).toBeGreaterThan(0);
    expect(lines(real.stdout, 'removed')).toEqual(dryLines);

    const garbageBytes = orphan.bytes.length + untagged.blobs.reduce((n, b) => n + b.bytes.length, 0) + untagged.body.length + 700;
    expect(dryLines).toContain(`manifest cli/app@${untagged.digest} (untagged)`);
    expect(dryLines).toContain(`blob ${orphan.digest} 4096 bytes (unreferenced)`);
    expect(dryLines.filter((l) => l.startsWith('upload cli/app '))).toHaveLength(1);
    expect(dry.stdout).toContain(`perch gc --dry-run: would remove 4 blobs, 1 manifest, 0 tags, 3 links, 1 upload; would free ${garbageBytes} bytes\n`);
    expect(real.stdout).toContain(`perch gc: removed 4 blobs, 1 manifest, 0 tags, 3 links, 1 upload; freed ${garbageBytes} bytes\n`);
    expect(before - (await contentBytesOnDisk(root))).toBe(garbageBytes);

    const again = await perchGc('--dry-run');
    expect(again.stdout).toBe('perch gc --dry-run: would remove 0 blobs, 0 manifests, 0 tags, 0 links, 0 uploads; would free 0 bytes\n');

    // What was kept still pulls back whole from a registry started on the collected storage.
    const restarted = await startRegistry({ dataDir: root, config: { storage: { gcInterval: '1h' } } });
    base = restarted.url;
    try {
      for (const live of [keep, index, sig]) await pullWhole(base, live);
      expect(await manifestStatus(base, 'cli/app', untagged.digest)).toBe(404);
    } finally {
      await restarted.stop();
    }
  });

  it('usage errors exit 2, a bad config or missing storage exit 1 with the reason', async () => {
    const none = capture();
    expect(await runGc([], none.io)).toBe(2);
    expect(none.out.stderr).toContain('perch gc: CONFIG is missing');
    const unknown = capture();
    expect(await runGc(['--force', 'x.json'], unknown.io)).toBe(2);
    expect(unknown.out.stderr).toContain('unknown option --force');

    const bad = capture();
    expect(await runGc([writeConfig('/tmp', { gcDealy: '1s' })], bad.io)).toBe(1);
    expect(bad.out.stderr).toMatch(/invalid configuration\n.*storage\.gcDealy/);

    const missing = capture();
    const root = join(tempDir('perch-gc-cli-'), 'absent');
    expect(await runGc([writeConfig(root)], missing.io)).toBe(1);
    expect(missing.out.stderr).toContain(`perch gc: no registry storage at ${root}`);
  });
});
