/**
 * The token key file while the registry runs: created if missing (token-key.ts), then polled
 * like the htpasswd file, so a key rotated in its Secret is picked up without a restart
 * (tokens signed with the old key are then refused, and clients fetch new ones). A file that
 * later turns bad keeps the last good key in use and reports why.
 *
 * An `optional` key (the default path under Basic challenges, where the token service is an
 * extra) may simply be absent: no file there, and none could be created, is then logged at
 * debug, not as an error, and `absent()` says so. A file that is there but unusable is an error
 * either way.
 */
import type { Logger } from '../log';
import { PolledFile } from './polled-file';
import { ensureTokenKeyFile, parseTokenKey, type TokenKey } from './token-key';

export interface TokenKeyFileOptions {
  pollIntervalMs: number;
  /** No file at the path is a normal state, not an error. */
  optional?: boolean;
}

/** The read errors that mean "no file there" (ENOTDIR: a part of the path is a file). */
function isMissing(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'ENOTDIR';
}

export class TokenKeyFile {
  private key: TokenKey | undefined;
  private problem: string | undefined = 'the token key has not been read yet';
  private createProblem: string | undefined;
  private missing = false;
  private readonly optional: boolean;
  private readonly file: PolledFile;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    options: TokenKeyFileOptions,
  ) {
    this.optional = options.optional ?? false;
    this.file = new PolledFile(path, options.pollIntervalMs, {
      onContent: (content) => {
        try {
          this.key = parseTokenKey(content, path);
          this.problem = undefined;
          this.missing = false;
          this.log.info('token key loaded', { path, alg: this.key.alg });
        } catch (err) {
          this.problem = (err as Error).message;
          this.missing = false;
          this.log.error('token key refused', { path, problem: this.problem, ...(this.key ? { keeping: 'the key loaded before' } : {}) });
        }
      },
      onError: (error) => {
        this.missing = isMissing(error);
        this.problem =
          this.missing && this.createProblem
            ? this.createProblem
            : `token key ${path} cannot be read (${error.code ?? error.message}); mount it there or set perch.auth.tokenKeyFile`;
        if (this.absent()) this.log.debug('token key absent', { path, problem: this.problem });
        else this.log.error('token key unavailable', { path, problem: this.problem, ...(this.key ? { keeping: 'the key loaded before' } : {}) });
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

  /** An optional key that is not there (and never was, in this process): nothing is wrong. */
  absent(): boolean {
    return this.optional && this.missing && !this.key;
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
