import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { maskJsonLine, maskSecrets, maskText } from './mask';

export type Logger = pino.Logger;
export type LogFormat = 'json' | 'text';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Anything with a `write(line)` method: a stream, a SonicBoom, or a test's capture buffer. */
export interface LineSink {
  write(line: string): unknown;
}

export interface CreateLoggerOptions {
  /** Level; default `PDR_LOG_LEVEL`, else `info`. */
  level?: string;
  /** `json` (default) or `text`; default `PDR_LOG_FORMAT`. */
  format?: string;
  /** Where lines go instead of stdout (tests capture here). Receives lines in `format`. */
  destination?: LineSink;
  /**
   * Directory for an additional JSON-lines file `<dir>/<service>.log` (appended).
   * Default `PDR_LOG_DIR`; no file at all when unset or empty. `null` disables it explicitly.
   */
  logDir?: string | null;
  /** Environment to read PDR_LOG_* from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Parse a log level, naming `source` (e.g. the variable PDR_LOG_LEVEL) when it is invalid. */
export function parseLogLevel(value: string, source = 'log level'): LogLevel {
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`${source}: invalid log level '${maskText(value)}'; expected one of ${LOG_LEVELS.join(', ')}`);
}

/** Parse a log format, naming `source` when it is invalid. */
export function parseLogFormat(value: string, source = 'log format'): LogFormat {
  const v = value.trim().toLowerCase();
  if (v === 'json' || v === 'text') return v;
  throw new Error(`${source}: invalid log format '${maskText(value)}'; expected 'json' or 'text'`);
}

/**
 * A pino logger for one service. JSON lines (or single-line text with PDR_LOG_FORMAT=text) on
 * stdout, every line carrying `service`; every object, message, error and child binding passes
 * through the secret masking of ./mask, and the serialized line is masked once more.
 * With PDR_LOG_DIR set, the same lines are also appended, always as JSON, to `<dir>/<service>.log`.
 */
export function createLogger(service: string, opts: CreateLoggerOptions = {}): Logger {
  if (typeof service !== 'string' || !SERVICE_NAME.test(service)) {
    throw new Error(`createLogger: invalid service name '${String(service)}' (letters, digits, '.', '_', '-')`);
  }
  const env = opts.env ?? process.env;
  const level =
    opts.level !== undefined
      ? parseLogLevel(opts.level, 'log level')
      : env.PDR_LOG_LEVEL
        ? parseLogLevel(env.PDR_LOG_LEVEL, 'PDR_LOG_LEVEL')
        : 'info';
  const format =
    opts.format !== undefined
      ? parseLogFormat(opts.format, 'log format')
      : env.PDR_LOG_FORMAT
        ? parseLogFormat(env.PDR_LOG_FORMAT, 'PDR_LOG_FORMAT')
        : 'json';

  const primary: LineSink = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const logDir = opts.logDir !== undefined ? opts.logDir : env.PDR_LOG_DIR;
  let file: LineSink | undefined;
  if (logDir) {
    const dir = path.resolve(logDir);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new Error(`PDR_LOG_DIR: cannot create log directory '${dir}': ${(e as Error).message}`);
    }
    file = pino.destination({ dest: path.join(dir, `${service}.log`), sync: true, append: true });
  }

  const sink: LineSink = {
    write(line: string) {
      primary.write(format === 'text' ? jsonLineToText(line) : line);
      file?.write(line);
    },
  };

  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => maskSecrets(bindings) as Record<string, unknown>,
        log: (obj) => maskSecrets(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskText(a) : maskSecrets(a)));
          return method.apply(this, masked as Parameters<typeof method>);
        },
        streamWrite: (s) => maskJsonLine(s),
      },
    },
    sink as pino.DestinationStream,
  );
}

const RESERVED = new Set(['time', 'level', 'service', 'msg', 'pid', 'hostname']);

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * The plain-text form of one JSON log line:
 * `2024-05-01T12:00:00.000Z INFO  [runner] message key=value other={"a":1}` — always one line
 * (newlines inside values are escaped). A line that is not JSON is passed through unchanged.
 */
export function jsonLineToText(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = String(rec.level ?? '').toUpperCase().padEnd(5);
  const msg = rec.msg === undefined ? '' : String(rec.msg).replace(/\r?\n/g, '\\n');
  let out = `${String(rec.time ?? '')} ${level} [${String(rec.service ?? '')}] ${msg}`;
  for (const [k, v] of Object.entries(rec)) {
    if (RESERVED.has(k)) continue;
    out += ` ${k}=${textValue(v)}`;
  }
  return out + '\n';
}
