/**
 * The token key file while the registry runs: created if missing (token-key.ts), then polled
 * like the htpasswd file, so a key rotated in its Secret is picked up without a restart
 * (tokens signed with the old key are then refused, and clients fetch new ones). A file that
 * later turns bad keeps the last good key in use and reports why.
 */
import type { Logger } from '../log';
import { PolledFile } from './polled-file';
import { ensureTokenKeyFile, parseTokenKey, type TokenKey } from './token-key';

export class TokenKeyFile {
  private key: TokenKey | undefined;
  private problem: string | undefined = 'the token key has not been read yet';
  private createProblem: string | undefined;
  private readonly file: PolledFile;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    pollIntervalMs: number,
  ) {
    this.file = new PolledFile(path, pollIntervalMs, {
      onContent: (content) => {
        try {
          this.key = parseTokenKey(content, path);
          this.problem = undefined;
          this.log.info('token key loaded', { path, alg: this.key.alg });
        } catch (err) {
          this.problem = (err as Error).message;
          this.log.error('token key refused', { path, problem: this.problem, ...(this.key ? { keeping: 'the key loaded before' } : {}) });
        }
      },
      onError: (error) => {
        this.problem =
          error.code === 'ENOENT' && this.createProblem
            ? this.createProblem
            : `token key ${path} cannot be read (${error.code ?? error.message}); mount it there or set perch.auth.tokenKeyFile`;
        this.log.error('token key unavailable', { path, problem: this.problem, ...(this.key ? { keeping: 'the key loaded before' } : {}) });
      },
    });
  }

  async start(): Promise<void> {
    try {
      if (await ensureTokenKeyFile(this.path)) this.log.info('token key created', { path: this.path, mode: '0600' });
    } catch (err) {
      this.createProblem = (err as Error).message;
    }
    await this.file.check();
    this.file.start();
  }

  current(): TokenKey | undefined {
    return this.key;
  }

  /** Why tokens cannot be issued or checked now, if they cannot. */
  unavailable(): string | undefined {
    return this.key ? undefined : this.problem;
  }

  /** Why the loaded key is not the file's current content, or why there is none. */
  trouble(): string | undefined {
    return this.problem;
  }

  close(): void {
    this.file.stop();
  }
}
