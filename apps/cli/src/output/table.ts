/** Plain-text tables: a header, a rule, one line per row; numbers right-aligned. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Right-align (default: numbers right, text left). */
  align?: 'left' | 'right';
  /** Cut longer cells with an ellipsis. */
  maxWidth?: number;
}

function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  return typeof v === 'number' ? String(v) : v.replace(/\s*[\r\n]+\s*/g, ' ');
}

function cut(s: string, max: number | undefined): string {
  if (max === undefined || s.length <= max) return s;
  return max <= 1 ? s.slice(0, max) : `${s.slice(0, max - 1)}…`;
}

export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((r) => columns.map((c) => cut(cell(c.value(r)), c.maxWidth)));
  const right = columns.map(
    (c) => c.align === 'right' || (c.align === undefined && rows.length > 0 && rows.every((r) => typeof c.value(r) === 'number')),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (parts: string[]): string =>
    parts
      .map((p, i) => (right[i] ? p.padStart(widths[i]) : i === parts.length - 1 ? p : p.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of cells) out.push(line(row));
  return out.join('\n');
}
