/**
 * `describe`, or `describe.skip` with one visible line saying what is missing (a binary, a data set), so a
 * skipped suite never passes silently. `missing`: null when everything the suite needs is there.
 */
export function describeOrSkip(name: string, missing: string | null, fn: () => void): void {
  if (missing) {
    console.warn(`SKIPPED "${name}": ${missing}`);
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}
