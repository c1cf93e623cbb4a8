/**
 * Byte sizes for perch's quotas: a number of bytes, or a string with a unit. Binary units
 * (Ki, Mi, Gi, Ti, Pi) are powers of 1024 and decimal ones (K/k, M, G, T, P) powers of 1000,
 * as in Kubernetes resource quantities, so "10Gi" means what it means in a PVC request.
 * A trailing "B" is allowed ("500MiB", "1GB"), as is a bare "B" or no unit ("1024").
 */

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([kKMGTP]i?)?B?$/;

/** Whole bytes, or undefined when the text is not a size. Fractions round down ("1.5Ki" is 1536). */
export function parseByteSize(input: number | string): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  const match = SIZE.exec(input.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2] ?? '']);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
