import { hasUnsafeCharacters, levenshtein, nearest } from './nearest';

describe('levenshtein', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['cosray', 'cosrya', 2],
    ['same', 'same', 0],
  ])('%s / %s → %d', (a, b, d) => expect(levenshtein(a, b)).toBe(d));
});

describe('nearest', () => {
  const cols = ['cosray', 'beta', 'Niter', 'rescaleQF', 'tgasc', 'tdustc', 'elfrac12', 'elfrac13'];
  it('finds a one-letter typo', () => expect(nearest('cosrai', cols)).toBe('cosray'));
  it('is case-insensitive and returns the candidate spelling', () => {
    expect(nearest('niter', cols)).toBe('Niter');
    expect(nearest('RESCALEQF', cols)).toBe('rescaleQF');
  });
  it('prefers the closest', () => expect(nearest('tgascc', cols)).toBe('tgasc'));
  it('returns undefined when nothing is close', () => {
    expect(nearest('temperature', cols)).toBeUndefined();
    expect(nearest('xyz', cols)).toBeUndefined();
    expect(nearest('anything', [])).toBeUndefined();
  });
  it('ties keep the first candidate', () => expect(nearest('elfrac1', cols)).toBe('elfrac12'));
});

describe('hasUnsafeCharacters', () => {
  it('flags quotes, backslashes and control characters', () => {
    expect(hasUnsafeCharacters('Draine.fuv')).toBe(false);
    expect(hasUnsafeCharacters('a b')).toBe(false);
    expect(hasUnsafeCharacters('a"b')).toBe(true);
    expect(hasUnsafeCharacters('a\\b')).toBe(true);
    expect(hasUnsafeCharacters('a\nb')).toBe(true);
    expect(hasUnsafeCharacters('a\u007fb')).toBe(true);
  });
  it('optionally flags whitespace', () => {
    expect(hasUnsafeCharacters('CO', true)).toBe(false);
    expect(hasUnsafeCharacters('C O', true)).toBe(true);
    expect(hasUnsafeCharacters('C\u00a0O', true)).toBe(true);
  });
});
