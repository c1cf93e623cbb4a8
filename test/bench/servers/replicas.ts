/**
 * Several processes of one registry on one store, as replicas behind a Kubernetes Service:
 * `replicated(spec, n)` starts n copies with the same options (the same bucket), each on its
 * own port with its own folder for config and log, and answers as one server whose `urls`
 * the client takes turns on and whose `pids` the CPU accounting adds up.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { RunningServer, ServerSpec } from './types';

export function replicated(spec: ServerSpec, count: number): ServerSpec {
  return {
    ...spec,
    label: `${spec.label} x${count}`,
    async start(options) {
      const started: RunningServer[] = [];
      const dirs = Array.from({ length: count }, (_, i) => `${options.dataDir}-r${i}`);
      const stop = async () => {
        await Promise.all(started.map((s) => s.stop()));
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      };
      try {
        for (const dataDir of dirs) {
          mkdirSync(dataDir, { recursive: true });
          started.push(await spec.start({ ...options, dataDir }));
        }
      } catch (err) {
        await stop();
        throw err;
      }
      return {
        kind: spec.kind,
        url: started[0].url,
        pid: started[0].pid,
        urls: started.map((s) => s.url),
        pids: started.map((s) => s.pid),
        dataDir: options.dataDir,
        stop,
      };
    },
  };
}
