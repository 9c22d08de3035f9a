import { mockGridRequest } from '../../../../test/support/grid-request';
import { gridRequestHash } from './request-hash';

const request = (over: Parameters<typeof mockGridRequest>[2] = {}) => mockGridRequest('/base', '/storage', over);

describe('gridRequestHash', () => {
  it('is a sha256, equal for equal requests whatever their key order', () => {
    const a = request();
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    expect(gridRequestHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(gridRequestHash(reordered)).toBe(gridRequestHash(a));
  });

  it('ignores the description, but not what decides the points or how they run', () => {
    const base = gridRequestHash(request());
    expect(gridRequestHash(request({ description: 'another text' }))).toBe(base);
    expect(gridRequestHash(request({ axes: { dens: ['30', '40'] } }))).not.toBe(base);
    expect(gridRequestHash(request({ physics: { alpha: 2, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} } }))).not.toBe(base);
    expect(gridRequestHash(request({ run: { forceOnion: true } }))).not.toBe(base);
  });
});
