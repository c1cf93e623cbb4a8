/**
 * JSON the way Go's encoding/json writes it, for documents whose bytes must equal Helm's
 * (the chart config blob, the manifest, the Chart.lock digest input). JSON.stringify already
 * matches for the shapes used here (objects in insertion order, no spaces); Go additionally
 * escapes <, > and & (HTMLEscape, on by default in json.Marshal) and U+2028/U+2029.
 * Map keys must be sorted by the caller where Go would sort them (map[string]string).
 */
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]);
}

/** A copy of a string map with its keys in Go's order for maps (sorted by bytes). */
export function sortedMap(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(map).sort(compareBytes)) out[key] = map[key];
  return out;
}

/** Byte-wise comparison of UTF-8 strings (Go's string order), not UTF-16 code units. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
