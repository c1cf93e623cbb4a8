/**
 * perch's configuration: zot's config.json format (the keys perch implements, matched without
 * regard to case), plus perch's own `perch` section. Reference: docs/config.md.
 */
export { loadConfig, parseConfig, type LoadOptions } from './load';
export { defaultConfig } from './defaults';
export { ConfigError, type ConfigProblem } from './errors';
export { parseGoDuration, formatDuration } from './duration';
export { parseByteSize } from './byte-size';
export { ZOT_SOURCE } from './known-keys';
export type * from './types';
