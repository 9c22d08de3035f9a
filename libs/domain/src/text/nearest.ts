/**
 * Levenshtein edit distance (insert, delete, substitute: cost 1 each). O(|a|·|b|) time, O(|b|) memory.
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * The candidate closest to `name` (case-insensitive Levenshtein), for "did you mean …?" messages.
 * Returns undefined when nothing is close enough: the distance must be at most
 * max(1, floor(max(|name|, |candidate|) / 3)) — roughly one edit per three characters — so short
 * names only match on a single typo. An exact case-insensitive match always wins; ties keep the
 * earliest candidate.
 */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  const needle = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (c === needle) return candidate;
    const d = levenshtein(needle, c);
    const threshold = Math.max(1, Math.floor(Math.max(needle.length, c.length) / 3));
    if (d <= threshold && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * True when `text` contains a character that would break a rendered input file: a double quote,
 * a backslash or a control character (U+0000–U+001F, U+007F); with `noSpace`, also whitespace.
 */
export function hasUnsafeCharacters(text: string, noSpace = false): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c) return true;
    if (noSpace && /\s/.test(text[i])) return true;
  }
  return false;
}
