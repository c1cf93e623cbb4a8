/**
 * "Did you mean ...?" for a misspelt key: the closest candidate by edit distance
 * (insertions, deletions, substitutions and swaps of neighbours), ignoring case as zot does.
 */

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const target = word.toLowerCase();
  // Short keys tolerate one slip, longer ones two or a quarter of their length.
  const limit = Math.max(target.length >= 5 ? 2 : 1, Math.floor(target.length / 4));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    let d = editDistance(target, lower);
    // Singular for plural and the like ("repository" for "repositories"): a shared stem of 4+ letters.
    const [short, long] = target.length <= lower.length ? [target, lower] : [lower, target];
    if (d > limit && short.length >= 5 && long.startsWith(short.slice(0, -1)) && long.length - short.length <= 3) d = limit;
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one substring). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
