/** The benchmark's statistics: medians, nearest-rank percentiles and run summaries. */
import { describe, expect, it } from 'vitest';
import { median, percentile, summarize } from '../bench/stats';

describe('bench statistics', () => {
  it('median of odd and even samples, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('percentile is nearest-rank', () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentile(sample, 50)).toBe(50);
    expect(percentile(sample, 99)).toBe(99);
    expect(percentile(sample, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('summarize keeps median and range, ignoring runs that produced no figure', () => {
    expect(summarize([3, NaN, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: [3, NaN, 1, 2] });
  });
});
