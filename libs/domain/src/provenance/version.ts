/**
 * Parsing of `<executable> --version` output (SPEC §5.9, fixing defect 24). Pure.
 *
 * Revision: the first line containing the word "revision" (any case). If the word is followed by a
 * colon, the revision is the rest of the line after THAT colon (not the first colon of the line);
 * otherwise the first whitespace-separated word after it. Empty → keep looking.
 * Compilation date (UTC): searched first in lines mentioning "compiled", then in the whole text, in
 * the formats
 *   %b %d %Y at %H:%M:%S   ("Binary compiled the Feb 11 2025 at 11:01:00", "Compiled: Jan 01 2023 at 12:00:00")
 *   %Y-%m-%d %H:%M:%S      (also with a "T")
 *   %d %b %Y %H:%M:%S
 *   %B %d, %Y
 *   %d.%m.%Y %H:%M:%S
 * Nothing found → null with a reason; never a sentinel string or a made-up date.
 */

export interface VersionInfo {
  readonly revision: string | null;
  readonly compilationDate: Date | null;
  readonly reasons: string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTHS_LONG = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MON = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const MONTH = `(${MONTHS_LONG.join('|')})`;

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): Date | null {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCDate() === d && date.getUTCMonth() === mo - 1 ? date : null;
}

type DateRule = { re: RegExp; build: (m: RegExpExecArray) => Date | null };

const DATE_RULES: readonly DateRule[] = [
  // %b %d %Y at %X (C __DATE__ " at " __TIME__; "Feb  1 2025" has two spaces)
  {
    re: new RegExp(`\\b${MON}\\s+(\\d{1,2})\\s+(\\d{4})\\s+at\\s+(\\d{1,2}):(\\d{2}):(\\d{2})\\b`, 'i'),
    build: (m) => utc(+m[3], MONTHS.indexOf(m[1].toLowerCase()) + 1, +m[2], +m[4], +m[5], +m[6]),
  },
  {
    re: /\b(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})\b/,
    build: (m) => utc(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]),
  },
  {
    re: new RegExp(`\\b(\\d{1,2}) ${MON} (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2})\\b`, 'i'),
    build: (m) => utc(+m[3], MONTHS.indexOf(m[2].toLowerCase()) + 1, +m[1], +m[4], +m[5], +m[6]),
  },
  {
    re: new RegExp(`\\b${MONTH} (\\d{1,2}), (\\d{4})\\b`, 'i'),
    build: (m) => utc(+m[3], MONTHS_LONG.indexOf(m[1].toLowerCase()) + 1, +m[2]),
  },
  {
    re: /\b(\d{1,2})\.(\d{1,2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})\b/,
    build: (m) => utc(+m[3], +m[2], +m[1], +m[4], +m[5], +m[6]),
  },
];

function findDate(text: string): Date | null {
  for (const rule of DATE_RULES) {
    const re = new RegExp(rule.re.source, rule.re.flags.includes('g') ? rule.re.flags : `${rule.re.flags}g`);
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const d = rule.build(m);
      if (d) return d;
    }
  }
  return null;
}

function findRevision(lines: readonly string[]): string | null {
  const word = /\brevision\b/gi;
  for (const line of lines) {
    word.lastIndex = 0;
    for (let m = word.exec(line); m; m = word.exec(line)) {
      const rest = line.slice(m.index + m[0].length);
      const colon = /^\s*[:=]\s*(.*)$/.exec(rest);
      const candidate = colon ? colon[1].trim() : (/^\s+(\S+)/.exec(rest)?.[1] ?? '');
      const cleaned = candidate.replace(/[,;]+$/, '');
      if (cleaned) return cleaned.length > 50 ? cleaned.slice(0, 50) : cleaned;
    }
  }
  return null;
}

/** Extracts revision and compilation date from `--version` output. */
export function parseVersionOutput(text: string): VersionInfo {
  const reasons: string[] = [];
  const lines = text.split(/\r?\n/);
  const revision = findRevision(lines);
  if (revision === null) reasons.push('no revision found in --version output');
  const compiledLines = lines.filter((l) => /compil/i.test(l)).join('\n');
  const compilationDate = findDate(compiledLines) ?? findDate(text);
  if (compilationDate === null) reasons.push('no compilation date found in --version output');
  return { revision, compilationDate, reasons };
}
