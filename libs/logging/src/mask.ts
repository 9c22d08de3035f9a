/**
 * Secret masking for everything that is logged or printed.
 *
 * Three independent layers, because each one alone has gaps:
 *  1. key names   – `maskSecrets` replaces the value of any key that looks like a secret
 *                   (password, token, api_key, credential, auth …) by `***`;
 *  2. URLs        – `maskUrl` hides the password part of `scheme://user:password@host`;
 *  3. known values – `registerSecret` remembers concrete secret strings (the DB and storage
 *                   passwords, registered by @pdr/config when it loads a configuration) and
 *                   `maskKnownSecrets` replaces them wherever they show up in free text
 *                   (error messages, stack traces, messages built by string concatenation).
 *
 * Usernames are deliberately NOT treated as secrets (pdr_run masked `username`/`user`, which hid
 * the one piece of information needed to debug an access-denied error, and even hid the `user`
 * section with the author's name and e-mail). A username is an identifier, not a credential.
 */

/** What a secret value is replaced with. */
export const MASK = '***';
/** What an empty / null / undefined secret prints as, so "no password" stays diagnosable. */
export const NOT_SET = '(not set)';

const SECRET_SUBSTRINGS = /passw(?:or)?d|passphrase|pwd|secret|token|api_?key|private_?key|credential/;
/** `auth` only as a whole word segment: auth, auth_token, x-auth, basicAuth, authorization — not `author`. */
const AUTH_SEGMENT = /(?:^|[^a-z0-9])auth(?:$|[^a-z0-9]|orization|entication|key)/;

/** Is `key` the name of a field whose value must never be shown? (case-insensitive) */
export function isSecretKey(key: string): boolean {
  // camelCase → snake_case so `basicAuth` and `dbPassword` are seen as segments.
  const k = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return SECRET_SUBSTRINGS.test(k) || AUTH_SEGMENT.test(k);
}

/** Value shown instead of a secret: `***`, or `(not set)` for null/undefined/''. */
export function maskValue(value: unknown): string {
  return value === null || value === undefined || value === '' ? NOT_SET : MASK;
}

// scheme://user:password@host — the password may itself contain '@' or ':' (greedy up to the
// last '@' before a delimiter); stops at whitespace, quotes, '/', '?', '#'.
const URL_PASSWORD = /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s/?#"'`:@]*:)([^\s/?#"'`]*)@/g;

/** Replace the password of every `scheme://user:pw@host` in `s` by `***`. Non-strings are returned unchanged. */
export function maskUrl<T>(s: T): T {
  if (typeof s !== 'string') return s;
  return s.replace(URL_PASSWORD, (_m, head: string, pw: string) => `${head}${pw === '' ? '' : MASK}@`) as unknown as T;
}

// ---------------------------------------------------------------------------------------------
// Registry of known secret values

const secrets = new Set<string>();
/** Secrets plus the encoded forms they take in URLs and JSON text, longest first. */
let variants: string[] = [];

function rebuildVariants(): void {
  const all = new Set<string>();
  for (const s of secrets) {
    all.add(s);
    all.add(encodeURIComponent(s));
    all.add(JSON.stringify(s).slice(1, -1));
  }
  variants = [...all].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * Secrets shorter than this are not searched for in free text: a password like `pdr` or `x` would
 * otherwise blank out that text in every line (service names, paths) and make logs and error
 * messages unreadable. Such passwords are still masked by key name and inside URLs.
 */
export const MIN_REGISTERED_SECRET_LENGTH = 4;

/**
 * Remember a concrete secret so it is masked wherever it appears in log text.
 * null/undefined/'' and secrets shorter than MIN_REGISTERED_SECRET_LENGTH are ignored.
 */
export function registerSecret(value: unknown): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return;
  const s = String(value);
  if (s.length < MIN_REGISTERED_SECRET_LENGTH || secrets.has(s)) return;
  secrets.add(s);
  rebuildVariants();
}

/** Forget all registered secrets (for tests). */
export function clearRegisteredSecrets(): void {
  secrets.clear();
  variants = [];
}

/** Replace every registered secret (and its URL/JSON-encoded form) in `text` by `***`. */
export function maskKnownSecrets(text: string): string {
  if (variants.length === 0 || typeof text !== 'string') return text;
  let out = text;
  for (const v of variants) {
    if (out.includes(v)) out = out.split(v).join(MASK);
  }
  return out;
}

/** maskUrl + maskKnownSecrets: what every free-text string goes through. */
export function maskText(text: string): string {
  return maskKnownSecrets(maskUrl(text));
}

// ---------------------------------------------------------------------------------------------
// Deep masking of structured values

/**
 * Deep copy of `value` with secrets masked: values of secret-looking keys become `***`
 * (or `(not set)` when empty), every string goes through `maskText`. Errors are cloned with the
 * same prototype (so serializers still see an Error) and masked message, stack, cause and own
 * properties. Circular references become '[Circular]'. The input is never mutated.
 */
export function maskSecrets(value: unknown): unknown {
  return maskDeep(value, new WeakMap<object, unknown>());
}

function maskDeep(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return maskText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';

  if (value instanceof Error) return maskError(value, seen);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(maskDeep(item, seen));
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of value) assignMasked(out, String(k), v, seen);
    return out;
  }
  if (value instanceof Set) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(maskDeep(v, seen));
    return out;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    seen.set(value, '[Circular]');
    return maskDeep((toJSON as () => unknown).call(value), seen);
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const key of Object.keys(value)) assignMasked(out, key, (value as Record<string, unknown>)[key], seen);
  return out;
}

function assignMasked(out: Record<string, unknown>, key: string, v: unknown, seen: WeakMap<object, unknown>): void {
  out[maskText(key)] = isSecretKey(key) ? maskValue(v) : maskDeep(v, seen);
}

function maskError(err: Error, seen: WeakMap<object, unknown>): Error {
  const clone = Object.create(Object.getPrototypeOf(err)) as Error & Record<string, unknown>;
  seen.set(err, clone);
  const define = (k: string, v: unknown): void => {
    Object.defineProperty(clone, k, { value: v, enumerable: false, writable: true, configurable: true });
  };
  define('message', maskText(String(err.message ?? '')));
  if (typeof err.stack === 'string') define('stack', maskText(err.stack));
  if (Object.prototype.hasOwnProperty.call(err, 'name')) define('name', maskText(String(err.name)));
  if ('cause' in err && err.cause !== undefined) define('cause', maskDeep(err.cause, seen));
  if (err instanceof AggregateError) define('errors', maskDeep(err.errors, seen));
  for (const key of Object.keys(err)) {
    if (key === 'message' || key === 'stack' || key === 'cause') continue;
    const v = (err as unknown as Record<string, unknown>)[key];
    clone[maskText(key)] = isSecretKey(key) ? maskValue(v) : maskDeep(v, seen);
  }
  return clone;
}

/**
 * Mask a serialized JSON log line: every JSON string literal in it (keys and values) goes through
 * `maskText` (decoded first, re-encoded after). Numbers, booleans and the structure are untouched, so
 * the line stays valid JSON whatever the secret is. Last line of defence after `maskSecrets`.
 */
export function maskJsonLine(line: string): string {
  if (variants.length === 0 && !line.includes('://')) return line;
  return line.replace(/"(?:[^"\\]|\\.)*"/g, (literal) => {
    let raw: string;
    try {
      raw = JSON.parse(literal) as string;
    } catch {
      return maskText(literal);
    }
    const masked = maskText(raw);
    return masked === raw ? literal : JSON.stringify(masked);
  });
}
