import { z } from 'zod';

/** Version of every payload in this library. Bump on an incompatible change; services reject others. */
export const SCHEMA_VERSION = 1 as const;
export const schemaVersion = z.literal(SCHEMA_VERSION).default(SCHEMA_VERSION);

/** Job states (DESIGN.md "Job states"). */
export const JOB_STATUSES = ['pending', 'queued', 'running', 'finished', 'problem', 'failed', 'skipped', 'cancelled'] as const;
export const jobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatus>;
export const TERMINAL_STATUSES: readonly JobStatus[] = ['finished', 'problem', 'failed', 'skipped', 'cancelled'];
/** A point counts as done for the user when it finished or was skipped because its outputs exist. */
export const SUCCESS_STATUSES: readonly JobStatus[] = ['finished', 'skipped'];

export const id = z.number().int().positive();
/** The id of the database that owns the jobs (a UUID written by its migration): job ids are unique only within one database. */
export const installationId = z.string().regex(/^[0-9a-f-]{8,64}$/, 'an installation id (the UUID of a database)');
/**
 * Names that become path segments (model name, species, file names): a single file-name component, never
 * a path of its own. The one rule for such names: config, CLI flags and messages all check it here.
 */
export const SAFE_NAME_PATTERN = /^(?!\.)[^\s/\\\0]{1,200}$/;
export const SAFE_NAME_RULE = 'a plain name: no "/", "\\", whitespace or NUL, not starting with "."';
export const safeName = z.string().min(1).max(200).regex(SAFE_NAME_PATTERN, `must be ${SAFE_NAME_RULE}`);
/**
 * An onion species: a safe name short enough that its files' roles (`onion:<species>:<file>`, job_files.role
 * VARCHAR(200)) fit. A longer one is refused when the grid is submitted — its finish could never be recorded.
 */
export const ONION_SPECIES_MAX = 80;
export const onionSpecies = safeName.max(ONION_SPECIES_MAX, `must be at most ${ONION_SPECIES_MAX} characters (its file roles are stored as onion:<species>:<file>)`);
export const isoDate = z.string().datetime({ offset: true });
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** Grid axis strings (SPEC §3.1): 10·log10 encodings such as "30", "-10", "05", "3.5"; decimals only, never eval. */
export const AXIS_VALUE_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
export const axisValue = z.string().regex(AXIS_VALUE_PATTERN, 'must be a decimal number such as "30", "-10", "3.5" or "1e2"');
export const point = z.tuple([axisValue, axisValue, axisValue, axisValue]).describe('[metal, dens, mass, chi]');
export type Point = z.infer<typeof point>;

export const parameterValue = z.union([z.number(), z.string(), z.null()]);
export const parameterRow = z.record(z.string(), parameterValue);
export type ParameterRow = z.infer<typeof parameterRow>;

/** The standard error reply of every request subject. */
export const ERROR_CODES = ['BAD_REQUEST', 'NOT_FOUND', 'CONFLICT', 'UNAVAILABLE', 'TOO_LARGE', 'INTERNAL'] as const;
export const errorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCode>;
export const errorReply = z.object({
  error: z.object({ code: errorCode, message: z.string(), details: z.unknown().optional() }),
});
export type ErrorReply = z.infer<typeof errorReply>;

export function isErrorReply(x: unknown): x is ErrorReply {
  return typeof x === 'object' && x !== null && 'error' in x && errorReply.safeParse(x).success;
}

/** An error a handler throws to answer with a specific code; anything else is answered as INTERNAL. */
export class ContractError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ContractError';
  }
  toReply(): ErrorReply {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}
