import { GridRequest, Point } from '@pdr/contracts';
import { axesOfMode, gridSize, iterateGrid, normalizeAxes, randomGrid } from '@pdr/domain';

/** The points of a grid request, lazily (a 10^5 grid is never held as objects), and their count. */
export function planPoints(request: GridRequest): { count: number; points: () => Iterable<Point> } {
  const axes = request.axes;
  if (request.random) {
    const pts = randomGrid(axes, request.random.count, request.random.seed);
    return { count: pts.length, points: () => pts.map((p) => [p.metal, p.dens, p.mass, p.chi] as Point) };
  }
  const normalized = normalizeAxes(axes).axes;
  const effective = axesOfMode(normalized, request.mode);
  return {
    count: gridSize(effective),
    points: function* () {
      for (const p of iterateGrid(effective)) yield [p.metal, p.dens, p.mass, p.chi] as Point;
    },
  };
}

/** Splits an iterable into arrays of at most `size`. */
export function* chunks<T>(it: Iterable<T>, size: number): Generator<T[]> {
  let buf: T[] = [];
  for (const x of it) {
    buf.push(x);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length) yield buf;
}
