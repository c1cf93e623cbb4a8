// The memo of checked bearer tokens (registry-image/src/auth/verified-tokens.ts) that perch's
// own, an external issuer's and OpenID tokens share: answers until expiry, refuses after, and
// stays bounded without forgetting live tokens before expired ones.
import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from '../../registry-image/src/auth/verified-tokens';

describe('VerifiedTokens', () => {
  it('answers a remembered token until its expiry plus the tolerance, then refuses it once and forgets it', () => {
    let now = 1_000_000;
    const memo = new VerifiedTokens<string>(() => now, 10_000, (value) => new Error(`expired: ${value}`));
    expect(memo.get('tok')).toBeUndefined();
    memo.remember('tok', 'alice', now + 60_000);
    expect(memo.get('tok')).toBe('alice');
    now += 69_999;
    expect(memo.get('tok')).toBe('alice');
    now += 1;
    expect(() => memo.get('tok')).toThrow('expired: alice');
    expect(memo.get('tok')).toBeUndefined();
  });

  it('when full, drops expired entries first and only then the oldest live one', () => {
    let now = 0;
    const memo = new VerifiedTokens<number>(() => now, 0, () => new Error('expired'), 3);
    memo.remember('a', 1, 100_000);
    memo.remember('b', 2, 10); // expires first
    memo.remember('c', 3, 100_000);
    now = 20;
    memo.remember('d', 4, 100_000);
    expect(memo.size).toBe(3);
    expect([memo.get('a'), memo.get('b'), memo.get('c'), memo.get('d')]).toEqual([1, undefined, 3, 4]);
    memo.remember('e', 5, 100_000); // nothing expired: the oldest ("a") goes
    expect([memo.get('a'), memo.get('c'), memo.get('e')]).toEqual([undefined, 3, 5]);
    memo.clear();
    expect(memo.size).toBe(0);
  });
});

describe('VerifiedTokens, tokens that share their last characters', () => {
  it('never answers for a token it did not check, even when its tail matches a remembered one', () => {
    const memo = new VerifiedTokens<string>(() => 0, 0, () => new Error('expired'));
    const tail = 'x'.repeat(64);
    memo.remember(`header.alice.${tail}`, 'alice', 1000);
    expect(memo.get(`header.mallory.${tail}`)).toBeUndefined();
    expect(memo.get(`header.alice.${tail}`)).toBe('alice');
    // The second one, once checked, takes the slot; the first is then simply checked again.
    memo.remember(`header.mallory.${tail}`, 'mallory', 1000);
    expect(memo.get(`header.alice.${tail}`)).toBeUndefined();
    expect(memo.get(`header.mallory.${tail}`)).toBe('mallory');
  });
});
