/** RFC 4180 CSV: fields with comma, quote, CR or LF are quoted, quotes doubled; null → empty. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  // large floats in exponent form (1.1408065696821926e+17, not 114080656968219260): shortest round trip either way
  const s = typeof v === 'number' && Number.isFinite(v) && Math.abs(v) >= 1e16 ? v.toExponential() : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: readonly (string | number | boolean | null | undefined)[]): string {
  return values.map(csvField).join(',');
}
