// Types for summary.mjs (a plain script, so that `npm test` can run it before anything is built).
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
export function countVitest(report: unknown): Counts & { brokenFiles: string[] };
export function countJunit(xml: string): Counts;
