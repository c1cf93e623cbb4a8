/**
 * Password guessing against the bundled server with `http.auth.failDelay` and `http.ratelimit`
 * on: a failed login is answered only after the delay (Basic and the token service alike, and
 * the same for an unknown user), guesses for one user from one address take turns however many
 * connections carry them, a burst beyond the rate gets 429 before any password is checked, and
 * other clients (even the attacked user, from their own address) keep getting 200s meanwhile.
 *
 * The attacker sends from 127.0.0.2, the others from 127.0.0.3 and 127.0.0.4: the limit and the
 * throttle key on the client address (ratelimit/limiter.ts, auth/login-throttle.ts). Only lower
 * bounds on time are asserted; these machines are shared and slow at random.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegistry } from '../helpers/registry';
import { basic, call, startSecured, type Reply } from './harness';

const USERS = { alice: 'alice-Passw0rd-1', bob: 'bob-Passw0rd-2' };
const FAIL_DELAY_S = 1;
const RATE = 4;
/** Timers may fire a few milliseconds early against a wall clock read elsewhere. */
const SLACK_MS = 50;
const ATTACKER = '127.0.0.2';

describe('repeated failed logins', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    ({ registry } = await startSecured({ users: USERS, failDelay: FAIL_DELAY_S, http: { ratelimit: { rate: RATE } }, tokenKey: `${'k'.repeat(40)}\n` }));
  });
  afterAll(() => registry?.stop());

  const guess = (user: string, password: string, from = ATTACKER) => call(`${registry.url}/v2/`, { headers: basic(user, password), from });

  it('are each answered 401 only after failDelay, for a known user, an unknown one and the token service', async () => {
    const answers: Array<[string, Reply]> = [];
    answers.push(['wrong password', await guess('alice', 'guess-1')]);
    answers.push(['wrong password again', await guess('alice', 'guess-2')]);
    answers.push(['unknown user', await guess('mallory', 'guess-3')]);
    answers.push(['token service, GET', await call(`${registry.url}/v2/token?scope=repository:x:pull`, { headers: basic('bob', 'guess-4'), from: ATTACKER })]);
    answers.push([
      'token service, POST password grant',
      await call(`${registry.url}/v2/token`, {
        method: 'POST',
        from: ATTACKER,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'bob', password: 'guess-5' }).toString(),
      }),
    ]);
    for (const [what, reply] of answers) {
      expect(reply.status, what).toBe(401);
      expect(reply.json().errors[0].code, what).toBe('UNAUTHORIZED');
      expect(reply.ms, what).toBeGreaterThanOrEqual(FAIL_DELAY_S * 1000 - SLACK_MS);
    }
    // The right password is not held back by the failures before it (it clears the pair).
    await new Promise((r) => setTimeout(r, FAIL_DELAY_S * 1000));
    expect((await guess('alice', USERS.alice)).status).toBe(200);
  });

  it('in a parallel burst take turns one failDelay apart, beyond the rate get 429 without a password check, while other clients keep getting 200', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // the attacker's bucket is full again
    // Prime the pair (address, alice) with one failure, so every guess after it waits its turn.
    expect((await guess('alice', 'prime')).status).toBe(401);
    const mark = registry.logs.length;

    let attackOver = false;
    const burstStart = performance.now();
    const attack = Promise.all(
      Array.from({ length: 16 }, (_, i) => guess('alice', `burst-${i}`).then((r) => ({ status: r.status, at: performance.now() - burstStart }))),
    ).finally(() => (attackOver = true));

    // Meanwhile: alice with her password from her own address, and bob, one after the other.
    const others: Reply[] = [];
    while (!attackOver) {
      others.push(await call(`${registry.url}/v2/`, { headers: basic('alice', USERS.alice), from: '127.0.0.3' }));
      others.push(await call(`${registry.url}/v2/_catalog`, { headers: basic('bob', USERS.bob), from: '127.0.0.4' }));
      await new Promise((r) => setTimeout(r, 300));
    }
    const results = await attack;

    const limited = results.filter((r) => r.status === 429);
    const refused = results.filter((r) => r.status === 401).sort((a, b) => a.at - b.at);
    expect(limited.length + refused.length).toBe(results.length);
    // The bucket holds RATE tokens (the priming guess took one a second ago and it refilled),
    // plus what refills while the burst arrives.
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(RATE + 2);
    expect(limited.length).toBeGreaterThanOrEqual(results.length - RATE - 2);
    // Only the guesses the rate let through reached the password check.
    const checked = registry.logs.slice(mark).filter((l) => l.includes('"message":"login refused"') && l.includes(`"address":"${ATTACKER}"`));
    expect(checked).toHaveLength(refused.length);
    // Each guess that reached the password check waited for its own turn: the k-th answer
    // came at least k+1 delays after the burst began (the priming failure holds the first turn).
    refused.forEach((r, k) => expect(r.at, `guess ${k + 1} of ${refused.length}`).toBeGreaterThanOrEqual((k + 1) * FAIL_DELAY_S * 1000 - SLACK_MS));

    // The other clients were served all along, and not just once.
    expect(others.length).toBeGreaterThanOrEqual(4);
    expect(others.map((r) => r.status)).toEqual(others.map(() => 200));

    // The refused burst is in the access log as 429 and 401, never with a user name.
    const burstLines = registry.logs.filter((l) => l.includes('"message":"request"') && /"status":(429|401)/.test(l));
    expect(burstLines.length).toBeGreaterThanOrEqual(results.length);
    expect(burstLines.every((l) => l.includes('"user":null'))).toBe(true);
  });
});
