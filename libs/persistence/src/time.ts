/**
 * Times in the database are UTC DATETIME(3) values (the session time_zone is '+00:00'); the driver
 * returns them as strings ('YYYY-MM-DD HH:MM:SS.mmm'). These helpers convert at the boundary.
 */

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Date or ISO string → 'YYYY-MM-DD HH:MM:SS.mmm' (UTC). Throws on an invalid date, naming `what`. */
export function toDbTime(value: Date | string, what = 'time'): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) throw new Error(`${what}: invalid date ${JSON.stringify(String(value))}`);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

/** A DB time (string from the driver, or a Date hydrated by the ORM) → ISO 8601 with 'Z'; null stays null. */
export function fromDbTime(value: string | Date | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  const s = value.includes('T') ? value : value.replace(' ', 'T');
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid time from the database: ${JSON.stringify(value)}`);
  return d.toISOString();
}

/**
 * pdr_run's `execution_time` (SQLAlchemy Interval on MySQL): a DATETIME holding 1970-01-01 00:00:00
 * plus the duration. SQLAlchemy reads it back as `value - epoch`.
 */
export function intervalToDbTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`execution time: invalid duration ${ms} ms`);
  return toDbTime(new Date(Math.round(ms)));
}

/** The inverse of intervalToDbTime: milliseconds of a stored Interval. */
export function dbTimeToInterval(value: string | Date): number {
  const iso = fromDbTime(value);
  return iso === null ? 0 : new Date(iso).getTime();
}
