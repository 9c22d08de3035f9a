import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import type { Logger } from './logger';

type PinoMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Nest level → pino level. Nest's `log` is pino's `info`, `verbose` is `trace`. */
const LEVEL_MAP: Record<NestLogLevel, PinoMethod> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};
/** From most to least verbose, in pino's terms. */
const ORDER: PinoMethod[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function looksLikeStack(s: unknown): s is string {
  return typeof s === 'string' && /\n\s+at /.test(s);
}

/**
 * Nest `LoggerService` backed by a @pdr/logging pino logger, so Nest's own lines
 * (bootstrap, route mapping, exceptions) have the same format and the same secret masking.
 * Nest passes an optional trailing `context` string (and for `error`, a stack before it).
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }
  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams, true);
  }
  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }
  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }
  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }
  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams, true);
  }

  /** Nest enables a set of levels; pino has a threshold: use the most verbose level enabled. */
  setLogLevels(levels: NestLogLevel[]): void {
    const enabled = levels.map((l) => LEVEL_MAP[l]).filter(Boolean);
    if (enabled.length === 0) {
      this.logger.level = 'silent';
      return;
    }
    this.logger.level = ORDER.find((l) => enabled.includes(l)) ?? 'info';
  }

  private write(level: PinoMethod, message: unknown, params: unknown[], errorLike = false): void {
    const rest = [...params];
    const fields: Record<string, unknown> = {};
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') {
      // Nest's error(message, stack) with a single param: that param is the stack, not a context.
      if (!(errorLike && rest.length === 1 && looksLikeStack(rest[0]))) fields.context = rest.pop();
    }
    if (errorLike && rest.length > 0 && (looksLikeStack(rest[0]) || rest[0] === undefined)) {
      const stack = rest.shift();
      if (stack !== undefined) fields.stack = stack;
    }
    if (rest.length > 0) fields.params = rest;

    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
