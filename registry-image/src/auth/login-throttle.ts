/**
 * `http.auth.failDelay` (seconds), as zot has it: a failed login is answered only after the
 * delay (zot's authFail sleeps before writing the 401). perch also keys failures by client
 * address and user name: after a failure, attempts for the same pair take turns, one per
 * delay, however many connections they arrive on, so opening more connections does not
 * multiply the guesses one address can make against one user. A success clears the pair;
 * other users and other addresses are never held back.
 *
 * With failDelay 0 (zot's default) nothing waits. The table of pairs is bounded; the oldest
 * entries go first.
 */

const MAX_PAIRS = 10_000;

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class LoginThrottle {
  /** pair -> the earliest time the next attempt of the pair may be checked */
  private readonly nextSlot = new Map<string, number>();

  constructor(
    private readonly delayMs: number,
    private readonly now: () => number,
    private readonly sleep: Sleep = realSleep,
  ) {}

  private static pair(address: string, user: string): string {
    return `${address}\0${user}`;
  }

  private set(key: string, time: number): void {
    this.nextSlot.delete(key); // re-insert at the end: Map order is age order
    if (this.nextSlot.size >= MAX_PAIRS) {
      const oldest = this.nextSlot.keys().next().value;
      if (oldest !== undefined) this.nextSlot.delete(oldest);
    }
    this.nextSlot.set(key, time);
  }

  /** For a pair that failed recently: takes the next free turn and waits for it. */
  async beforeAttempt(address: string, user: string): Promise<void> {
    if (this.delayMs <= 0) return;
    const key = LoginThrottle.pair(address, user);
    const next = this.nextSlot.get(key);
    if (next === undefined) return;
    const now = this.now();
    const slot = Math.max(now, next);
    this.set(key, slot + this.delayMs);
    if (slot > now) await this.sleep(slot - now);
  }

  /** Records the failure and waits out the delay before the caller answers. */
  async failed(address: string, user: string): Promise<void> {
    if (this.delayMs <= 0) return;
    const key = LoginThrottle.pair(address, user);
    this.set(key, Math.max(this.nextSlot.get(key) ?? 0, this.now() + this.delayMs));
    await this.sleep(this.delayMs);
  }

  succeeded(address: string, user: string): void {
    if (this.delayMs > 0) this.nextSlot.delete(LoginThrottle.pair(address, user));
  }
}
