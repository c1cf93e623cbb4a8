/**
 * Follows http.tls.cert and http.tls.key while the server runs, so a renewed certificate
 * (cert-manager, a rotated Secret) is served without a restart. The files are polled, not
 * watched, for the reason auth/polled-file.ts gives: Kubernetes swaps a symlink, and a watch on
 * the old path goes deaf. A pair that does not load (the key written, the certificate not yet,
 * or a key that does not match) is skipped and the current one kept; the next poll tries again.
 * New connections get the new certificate; open ones keep theirs.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../log';
import { inspectPair, type CertificateInfo } from './certificate';

export interface LoadedPair {
  cert: Buffer;
  key: Buffer;
  info: CertificateInfo;
}

async function signature(paths: readonly string[]): Promise<string> {
  const stats = await Promise.all(paths.map((p) => stat(p)));
  return stats.map((s) => `${s.ino}:${s.size}:${s.mtimeMs}`).join('|');
}

export class PairWatcher {
  private last: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly certPath: string,
    private readonly keyPath: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly onChange: (pair: LoadedPair) => void,
  ) {}

  /** Remembers the files as they are now (the pair already being served), then polls. */
  async start(): Promise<void> {
    this.last = await signature([this.certPath, this.keyPath]).catch(() => undefined);
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      let now: string;
      try {
        now = await signature([this.certPath, this.keyPath]);
      } catch (err) {
        if (this.last !== 'missing') this.log.warn('tls: certificate files cannot be read; serving the current certificate', { error: (err as NodeJS.ErrnoException).code ?? String(err) });
        this.last = 'missing';
        return;
      }
      if (now === this.last) return;
      this.last = now;
      const [cert, key] = await Promise.all([readFile(this.certPath), readFile(this.keyPath)]);
      let info: CertificateInfo;
      try {
        info = inspectPair(cert, key);
      } catch (err) {
        this.log.warn('tls: the changed certificate files do not load; serving the current certificate', { error: (err as Error).message });
        return;
      }
      this.onChange({ cert, key, info });
      this.log.info('tls: certificate reloaded', { fingerprint: info.fingerprint256, notAfter: info.notAfter.toISOString() });
    } catch (err) {
      this.log.warn('tls: certificate reload failed; serving the current certificate', { error: String(err) });
    } finally {
      this.busy = false;
    }
  }
}
