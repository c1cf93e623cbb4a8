/** The machine's ceiling: test/bench/ceiling-server.ts (bundled next to the benchmark by scripts/bench.sh). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launch } from './launch';
import type { ServerSpec } from './types';

export function ceilingSpec(bundleDir: string): ServerSpec {
  const script = join(bundleDir, 'ceiling-server.js');
  return {
    kind: 'ceiling',
    label: 'ceiling',
    supportsAuth: false,
    unavailable: () => (existsSync(script) ? undefined : `${script} is missing (run the benchmark with scripts/bench.sh)`),
    async start({ dataDir }) {
      const port = await freePort();
      return launch({ kind: 'ceiling', command: process.execPath, args: [script, '--port', String(port), '--root', dataDir], port, dataDir });
    },
  };
}
