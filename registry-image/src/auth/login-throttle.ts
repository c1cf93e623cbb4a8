/**
 * `http.auth.failDelay` (seconds), as zot has it: a failed login is answered only after the
 * delay (zot's authFail sleeps before writing the 401). perch also keys failures by client
 * address and user name: the next attempt for the same pair waits until the delay since the
 * last failure has passed, so opening more connections does not multiply the guesses one
 * address can make against one user. A success clears the pair.
 *
 * With failDelay 0 (zot's default) nothing waits. The table of pairs is bounded; the oldest
 * entries go first.
 */

const MAX_PAIRS = 10_000;

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class LoginThrottle {
  /** pair -> time before which the next attempt waits */
  private readonly notBefore = new Map<string, number>();

  constructor(
    private readonly delayMs: number,
    private readonly now: () => number,
    private readonly sleep: Sleep = realSleep,
  ) {}

  private static pair(address: string, user: string): string {
    return `${address}\0${user}`;
  }

  /** Waits while the pair is still inside the delay after its last failure. */
  async beforeAttempt(address: string, user: string): Promise<void> {
    if (this.delayMs <= 0) return;
    const until = this.notBefore.get(LoginThrottle.pair(address, user));
    if (until === undefined) return;
    const wait = until - this.now();
    if (wait > 0) await this.sleep(wait);
  }

  /** Records the failure and waits out the delay before the caller answers. */
  async failed(address: string, user: string): Promise<void> {
    if (this.delayMs <= 0) return;
    const key = LoginThrottle.pair(address, user);
    this.notBefore.delete(key); // re-insert at the end: Map order is age order
    if (this.notBefore.size >= MAX_PAIRS) {
      const oldest = this.notBefore.keys().next().value;
      if (oldest !== undefined) this.notBefore.delete(oldest);
    }
    this.notBefore.set(key, this.now() + this.delayMs);
    await this.sleep(this.delayMs);
  }

  succeeded(address: string, user: string): void {
    if (this.delayMs > 0) this.notBefore.delete(LoginThrottle.pair(address, user));
  }
}
