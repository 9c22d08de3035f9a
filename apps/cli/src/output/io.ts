import { maskText } from '@pdr/logging';

/** Where a command writes. Every line passes through secret masking before it leaves. */
export interface Io {
  /** A line (or several) to stdout; a newline is appended. */
  out(text: string): void;
  /** A line to stderr; a newline is appended. */
  err(text: string): void;
  /** Raw write to stdout (progress bar redraws); masked as well. */
  write(text: string): void;
  /** stdout is a terminal: live redrawn progress bar instead of plain lines. */
  readonly isTTY: boolean;
  /** Terminal width (80 when unknown). */
  readonly columns: number;
}

let epipeHandled = false;

/** Output piped into `head` & co.: when the reader goes away, stop quietly instead of crashing. */
function exitQuietlyOnEpipe(): void {
  if (epipeHandled) return;
  epipeHandled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

export function processIo(): Io {
  exitQuietlyOnEpipe();
  return {
    out: (text) => void process.stdout.write(`${maskText(text)}\n`),
    err: (text) => void process.stderr.write(`${maskText(text)}\n`),
    write: (text) => void process.stdout.write(maskText(text)),
    get isTTY() {
      return process.stdout.isTTY === true;
    },
    get columns() {
      return process.stdout.columns || 80;
    },
  };
}

/** The one-line error format of every command. */
export function errorLine(message: string): string {
  return `pdr: error: ${message.replace(/\s*[\r\n]+\s*/g, ' ').trim()}`;
}

export function warningLine(message: string): string {
  return `pdr: warning: ${message.replace(/\s*[\r\n]+\s*/g, ' ').trim()}`;
}

export function noticeLine(message: string): string {
  return `pdr: ${message}`;
}
