/**
 * Teardown that runs even when the test run does not end normally. The image suite starts
 * containerd, runc containers (through containerd's shims, which outlive their parent) and
 * registries; leaving one behind would hold ports and mounts on the machine. Every step
 * registers a synchronous undo here; `runCleanups()` runs them newest first, from `afterAll`
 * and, should the worker die first, from the process's exit and signal handlers.
 */

type Undo = () => void;

const undos: Array<{ name: string; undo: Undo }> = [];
let installed = false;

/** Registers an undo; returns a function that runs it now (once) and forgets it. */
export function onCleanup(name: string, undo: Undo): () => void {
  installHandlers();
  const entry = { name, undo };
  undos.push(entry);
  return () => {
    const i = undos.indexOf(entry);
    if (i < 0) return;
    undos.splice(i, 1);
    runOne(entry);
  };
}

/** Runs every registered undo, newest first; an undo that throws is reported and skipped. */
export function runCleanups(): void {
  while (undos.length > 0) runOne(undos.pop()!);
}

function runOne(entry: { name: string; undo: Undo }): void {
  try {
    entry.undo();
  } catch (err) {
    process.stderr.write(`[image test cleanup] ${entry.name}: ${(err as Error).message}\n`);
  }
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runCleanups();
      // Re-raise with the default action so the parent sees the real cause of death.
      process.kill(process.pid, signal);
    });
  }
}
