import { GridMapReply, JOB_STATUSES } from '@pdr/contracts';
import { GridModel } from './model';
import { renderTextMap } from './text';
import { parseViewSpec } from './view';

const S = (s: (typeof JOB_STATUSES)[number]) => JOB_STATUSES.indexOf(s);

function model(dens: string[], chi: string[], statusOf: (d: string, c: string) => number): GridModel {
  const names: string[] = [];
  const status: number[] = [];
  for (const d of dens) for (const c of chi) {
    names.push(`100_${d}_-10_${c}_00`);
    status.push(statusOf(d, c));
  }
  const page: GridMapReply = { ids: names.map((_, i) => i + 1), names, status, attempts: names.map(() => 1), ms: names.map(() => null), nextAfterId: null };
  return new GridModel([page]);
}

describe('renderTextMap', () => {
  it('one character per point, y upwards, x values downwards, a legend with counts', () => {
    const m = model(['30', '40', '50'], ['10', '20'], (d, c) => (d === '50' && c === '20' ? S('failed') : d === '30' ? S('running') : S('finished')));
    const text = renderTextMap(m, parseViewSpec(new URLSearchParams('x=dens&y=chi'), m));
    expect(text.split('\n')).toEqual([
      'dens (x) × chi (y); metal: 100, mass: -10',
      'chi',
      ' 20 |>#X',
      ' 10 |>##',
      '    +--- dens',
      '     345',
      '     000',
      '> running 2   # finished 3   X failed 1',
    ]);
  });

  it('bins an axis with more values than fit, showing the most notable status of each bin', () => {
    const dens = Array.from({ length: 250 }, (_, i) => String(i));
    const m = model(dens, ['10'], (d) => (d === '137' ? S('problem') : S('finished')));
    const text = renderTextMap(m, parseViewSpec(new URLSearchParams('x=dens&y=chi'), m), { maxColumns: 100 });
    const row = text.split('\n').find((l) => l.includes('|'))!;
    expect(row).toBe(` 10 |${'#'.repeat(45)}P${'#'.repeat(38)}`); // 84 bins of 3 values
    expect(text).toContain('one character = 3 × 1 values');
  });
});
