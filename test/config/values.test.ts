/** Go durations, byte sizes, and the typo suggestions, each against a table of cases. */
import { describe, expect, it } from 'vitest';
import { formatDuration, parseByteSize, parseGoDuration } from 'perch/config';
import { closest, editDistance } from '../../registry-image/src/config/suggest';

describe('parseGoDuration (Go time.ParseDuration syntax)', () => {
  const ok: Array<[string, number]> = [
    ['0', 0],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1h30m15s', 5_415_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['2µs', 0.002],
    ['1000000ns', 1],
    ['-1m', -60_000],
    ['+2m', 120_000],
    ['3m3m', 360_000],
  ];
  for (const [text, ms] of ok) it(`"${text}" is ${ms}ms`, () => expect(parseGoDuration(text)).toBeCloseTo(ms, 9));

  for (const text of ['', '5', '1 h', '1d', '1H', 'h', '1h 30m', '1hour', '--1s', '1e3s', 'PT1H']) {
    it(`"${text}" is not a duration`, () => expect(parseGoDuration(text)).toBeUndefined());
  }

  it('formatDuration writes the shortest Go spelling', () => {
    expect([0, 500, 90_000, 5_400_000, 86_400_000, 3_723_004].map(formatDuration)).toEqual(['0s', '500ms', '1m30s', '1h30m', '24h', '1h2m3s4ms']);
  });
});

describe('parseByteSize (quotas)', () => {
  const ok: Array<[number | string, number]> = [
    [0, 0],
    [1024, 1024],
    ['1024', 1024],
    ['512B', 512],
    ['1k', 1000],
    ['1K', 1000],
    ['1Ki', 1024],
    ['500Mi', 500 * 2 ** 20],
    ['500MiB', 500 * 2 ** 20],
    ['10Gi', 10 * 2 ** 30],
    ['1G', 1e9],
    ['1GB', 1e9],
    ['2Ti', 2 * 2 ** 40],
    ['1.5Ki', 1536],
    ['1.5G', 1.5e9],
    [' 3 Mi ', 3 * 2 ** 20],
  ];
  for (const [input, bytes] of ok) it(`${JSON.stringify(input)} is ${bytes} bytes`, () => expect(parseByteSize(input)).toBe(bytes));

  for (const input of [-1, 1.5, 'ten', '10 gigs', '10gi', '1Gib', 'Gi', '-5Mi', '1e9', '']) {
    it(`${JSON.stringify(input)} is not a size`, () => expect(parseByteSize(input)).toBeUndefined());
  }
});

describe('typo suggestions', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('gcdealy', 'gcdelay')).toBe(1);
    expect(editDistance('adress', 'address')).toBe(1);
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('abc', 'xyz')).toBe(3);
  });

  const keys = ['rootDirectory', 'dedupe', 'gc', 'gcDelay', 'gcInterval', 'commit', 'maxRepos'];
  const cases: Array<[string, string | undefined]> = [
    ['gcDealy', 'gcDelay'],
    ['GCDELAY', 'gcDelay'],
    ['rootDir', undefined], // too far: six letters missing
    ['rootDirectroy', 'rootDirectory'],
    ['dedup', 'dedupe'],
    ['gcintreval', 'gcInterval'],
    ['port', undefined],
    ['maxRepo', 'maxRepos'],
    ['maxRepositories', undefined],
  ];
  it('a singular finds its plural', () => expect(closest('repository', ['repositories', 'deleteReferrers'])).toBe('repositories'));
  for (const [word, expected] of cases) it(`"${word}" suggests ${expected ?? 'nothing'}`, () => expect(closest(word, keys)).toBe(expected));
});
