/**
 * Logger: structured log lines. A line is a message plus fields; `child(fields)` binds fields
 * (node name, component) to every line it writes. The Node logger writes one JSON object per
 * line; the memory logger keeps lines for tests and for the simulator's failure report.
 */
import type { Clock } from './clock.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LogLine {
  level: LogLevel;
  msg: string;
  fields: LogFields;
  atMs: number;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(s: string): s is LogLevel {
  return s in rank;
}

/** Builds a logger from a sink; the sink sees every line at or above `level`. */
export function makeLogger(sink: (line: LogLine) => void, clock: Clock, level: LogLevel, bound: LogFields = {}): Logger {
  const min = rank[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (rank[lvl] < min) return;
    sink({ level: lvl, msg, fields: fields ? { ...bound, ...fields } : bound, atMs: clock.wallMs() });
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => makeLogger(sink, clock, level, { ...bound, ...fields }),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}

/** One JSON object per line on the given writer (stdout by default). */
export function jsonLogger(clock: Clock, level: LogLevel = 'info', write: (s: string) => void = (s) => process.stdout.write(s)): Logger {
  return makeLogger(
    (line) => write(`${JSON.stringify({ t: new Date(line.atMs).toISOString(), level: line.level, msg: line.msg, ...line.fields }, jsonSafe)}\n`),
    clock,
    level,
  );
}

/** Keeps lines in memory (bounded: the oldest are dropped past `linesMax`). */
export function memoryLogger(clock: Clock, level: LogLevel = 'debug', linesMax = 10_000): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = makeLogger(
    (line) => {
      lines.push(line);
      if (lines.length > linesMax) lines.splice(0, lines.length - linesMax);
    },
    clock,
    level,
  );
  return Object.assign(logger, { lines });
}

/** A logger that writes nothing. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
