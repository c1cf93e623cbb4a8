/**
 * The registry's logger: one JSON object per line on stdout (zot logs the same way), so
 * kubectl logs and log shippers can parse it. Fields are plain data; nothing that carries a
 * credential (Authorization headers, passwords, tokens) may ever be passed in.
 */
import type { LogLevel } from './config/types';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  /** Logged at info whatever the level: lifecycle lines people and scripts wait for ("listening"). */
  always(message: string, fields?: LogFields): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const threshold = RANK[level];
  const emit = (lvl: LogLevel, message: string, fields?: LogFields, force = false) => {
    if (!force && RANK[lvl] < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...fields }) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (lvl) => RANK[lvl] >= threshold,
    always: (m, f) => emit('info', m, f, true),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger('error', () => {});
