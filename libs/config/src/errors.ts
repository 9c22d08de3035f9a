import { isSecretKey, maskText } from '@pdr/logging';

/**
 * Every configuration problem: a bad file, key, value, environment variable or flag.
 * The message is always ONE line, names where the problem is (file:line:col, variable or flag) and
 * the key path, and never contains a secret value (secret-looking keys print no value at all, and
 * the message passes through the masking of @pdr/logging).
 */
export class ConfigError extends Error {
  /** The individual problems (each one line), when several were found at once. */
  readonly issues: readonly string[];

  constructor(message: string, issues?: readonly string[]) {
    super(oneLine(maskText(message)));
    this.name = 'ConfigError';
    this.issues = (issues ?? [message]).map((i) => oneLine(maskText(i)));
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Join several issues found in one place into one ConfigError. */
export function configErrorFrom(where: string, issues: string[]): ConfigError {
  if (issues.length === 1) return new ConfigError(`${where}: ${issues[0]}`, [`${where}: ${issues[0]}`]);
  return new ConfigError(
    `${where}: ${issues.length} problems: ${issues.join('; ')}`,
    issues.map((i) => `${where}: ${i}`),
  );
}

/** Short description of a value for "expected X, got Y" messages; secret keys never show the value. */
export function describeValue(value: unknown, key?: string): string {
  const kind =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'list'
        : typeof value === 'object'
          ? 'mapping'
          : typeof value;
  if (key !== undefined && isSecretKey(key)) return kind === 'string' ? 'a string (value hidden)' : `${kind} (value hidden)`;
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string '${s}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${kind} ${String(value)}`;
  return kind;
}
