import { ContractError } from '@pdr/contracts';

/** Exit codes of every pdr command. */
export const EXIT = {
  OK: 0,
  /** A run ended with points that are not finished/skipped, or a runtime error. */
  FAILED: 1,
  /** A user mistake: bad flag, value, config key or file. Nothing was changed. */
  USAGE: 2,
  /** NATS or one of the services (state, planner, runner) is not reachable. */
  SERVICE_MISSING: 3,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** An error with a one-line message meant for the user and the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILED,
    /** Extra lines printed only with --verbose. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A user mistake (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, detail?: string) {
    super(message, EXIT.USAGE, detail);
    this.name = 'UsageError';
  }
}

/** The services' start commands, shown whenever one is missing. */
export function howToStart(service: string): string {
  if (service === 'nats') return 'start nats-server with JetStream (nats-server -js) or set PDR_NATS_URL';
  const entry = service === 'runner' ? 'node apps/runner/dist/main.js --concurrency N' : `node apps/${service}/dist/main.js`;
  return `start it with \`pdr up\` or \`${entry}\` (from the repository root)`;
}

/** Names of error classes of the libraries that always mean a bad user input. */
const USER_INPUT_ERRORS = new Set([
  'ConfigError',
  'InvalidParameterValue',
  'UnknownParameterError',
  'GeometryError',
  'TemplateError',
  'TemplateNotFoundError',
  'RenderError',
]);

export interface ClassifiedError {
  message: string;
  exitCode: number;
  /** Shown with --verbose only. */
  detail?: string;
}

/**
 * Maps any thrown value to one line for stderr and an exit code. User mistakes get no stack trace;
 * unexpected errors show theirs with --verbose.
 */
export function classifyError(err: unknown): ClassifiedError {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode, detail: err.detail };
  // @pdr/messaging's errors, recognised by name (that library is loaded lazily)
  if (err instanceof Error && err.name === 'NatsUnavailableError') return { message: err.message, exitCode: EXIT.SERVICE_MISSING };
  if (err instanceof Error && err.name === 'NatsPermissionError') return { message: err.message, exitCode: EXIT.USAGE };
  if (err instanceof Error && err.name === 'ServiceUnavailableError') {
    return { message: `${err.message}; ${howToStart(String((err as Error & { service?: unknown }).service))}`, exitCode: EXIT.SERVICE_MISSING };
  }
  if (err instanceof ContractError) {
    const detail = err.details === undefined ? undefined : JSON.stringify(err.details, null, 2);
    switch (err.code) {
      // a grid, model or job that does not exist is a mistake in what was asked (README: exit 2)
      case 'BAD_REQUEST':
      case 'TOO_LARGE':
      case 'NOT_FOUND':
        return { message: err.message, exitCode: EXIT.USAGE, detail };
      case 'CONFLICT':
        return { message: err.message, exitCode: EXIT.FAILED, detail };
      case 'UNAVAILABLE':
        return { message: err.message, exitCode: EXIT.SERVICE_MISSING, detail };
      default:
        return { message: `a service reported an internal error: ${err.message} (see its log)`, exitCode: EXIT.FAILED, detail };
    }
  }
  if (err instanceof Error) {
    if (USER_INPUT_ERRORS.has(err.name) || USER_INPUT_ERRORS.has(err.constructor.name)) {
      const issues = (err as { issues?: unknown }).issues;
      const detail = Array.isArray(issues) && issues.length > 1 ? issues.map((i) => `  ${String(i)}`).join('\n') : undefined;
      return { message: err.message, exitCode: EXIT.USAGE, detail };
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') {
      return { message: err.message, exitCode: EXIT.USAGE };
    }
    return { message: err.message || err.name, exitCode: EXIT.FAILED, detail: err.stack };
  }
  return { message: String(err), exitCode: EXIT.FAILED };
}

/** Ends the command with this exit code; everything has been printed already. */
export class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ExitWith';
  }
}

/** Throws ExitWith for a non-zero code (commander actions cannot return one). */
export function exitWith(code: number): void {
  if (code !== EXIT.OK) throw new ExitWith(code);
}
