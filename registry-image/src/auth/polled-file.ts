/**
 * A file read again whenever it changes, found by polling its stat.
 *
 * Why polling and not fs.watch: a Kubernetes Secret is mounted as a directory in which
 * `htpasswd` is a symlink to `..data/htpasswd`, and `..data` a symlink to a timestamped
 * directory. kubelet updates it by writing a new timestamped directory and renaming a new
 * `..data` over the old one. A watch on the file follows the old inode and goes deaf; a stat
 * that follows the symlinks sees the new file at once (new inode). The fingerprint is the
 * device, inode, size, mtime and ctime in nanoseconds, so an in-place rewrite is noticed too.
 *
 * One stat per interval is the whole cost; the file is read only when the fingerprint moves.
 * Checks never overlap. The timer does not keep the process alive.
 */
import { promises as fs, type BigIntStats } from 'node:fs';

export type PolledFileState = { ok: true } | { ok: false; error: NodeJS.ErrnoException };

export interface PolledFileHandlers {
  /** The file's new content, read after a change (and at the first check). */
  onContent(content: Buffer): void;
  /** The file cannot be read; called once per distinct failure, not at every poll. */
  onError(error: NodeJS.ErrnoException): void;
}

function fingerprint(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

export class PolledFile {
  private last: string | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  state: PolledFileState = { ok: false, error: Object.assign(new Error('not read yet'), { code: 'EAGAIN' }) };

  constructor(
    readonly path: string,
    private readonly intervalMs: number,
    private readonly handlers: PolledFileHandlers,
  ) {}

  /** One poll: stat, and read if changed. Concurrent calls share the check in flight. */
  check(): Promise<void> {
    this.running ??= this.checkOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    try {
      const stat = await fs.stat(this.path, { bigint: true }); // follows symlinks
      const print = fingerprint(stat);
      if (print === this.last && this.state.ok) return;
      const content = await fs.readFile(this.path);
      // The fingerprint from before the read: if the file moved during it, the next poll rereads.
      this.last = print;
      this.lastError = undefined;
      this.state = { ok: true };
      this.handlers.onContent(content);
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      this.state = { ok: false, error };
      this.last = undefined;
      const key = `${error.code}:${error.message}`;
      if (key !== this.lastError) {
        this.lastError = key;
        this.handlers.onError(error);
      }
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
