import { mockGridRequest } from '../../../../test/support/grid-request';
import { chunks, planPoints } from './grid-points';

const request = (over: Parameters<typeof mockGridRequest>[2] = {}) => mockGridRequest('/base', '/storage', over);

describe('planPoints', () => {
  it('a grid is the product of its axes, counted without building the points', () => {
    const plan = planPoints(request());
    expect(plan.count).toBe(6); // 1 metal × 3 densities × 1 mass × 2 fields
    const pts = [...plan.points()];
    expect(pts).toHaveLength(6);
    expect(new Set(pts.map((p) => p.join(' '))).size).toBe(6);
    for (const [metal, , mass] of pts) expect([metal, mass]).toEqual([pts[0][0], pts[0][2]]);
  });

  it('single mode runs the first value of each axis only', () => {
    const plan = planPoints(request({ mode: 'single' }));
    expect(plan.count).toBe(1);
    expect([...plan.points()]).toEqual([[...planPoints(request()).points()][0]]);
  });

  it('a random grid has its count of points, the same for the same seed', () => {
    const a = planPoints(request({ random: { count: 5, seed: 42 } }));
    const b = planPoints(request({ random: { count: 5, seed: 42 } }));
    expect(a.count).toBe(5);
    expect([...a.points()]).toEqual([...b.points()]);
  });
});

describe('chunks', () => {
  it('splits into arrays of at most size, in order, the last one shorter', () => {
    expect([...chunks([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...chunks([], 3)]).toEqual([]);
    expect([...chunks([1, 2], 2)]).toEqual([[1, 2]]);
  });
});
