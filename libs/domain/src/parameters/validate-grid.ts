/**
 * Checks a whole grid's physics before anything is planned, without building every point: each axis value
 * once (paired with the first values of the other axes), and every corner of mass × density, where the
 * clump radius is largest and smallest (rtot grows with M and falls with n), so a combination that
 * overflows or underflows is found too. Throws what buildParameterRow throws, naming the value.
 */
import { GridAxes, GRID_AXES } from '../grid/grid';
import { parseEncodedNumber } from '../encoding/encoding';
import { buildParameterRow, BuildParameterRowInput } from './row';

export function validateGridPhysics(axes: GridAxes, physics: Omit<BuildParameterRowInput, 'point'>): void {
  const first = { metal: axes.metal[0], dens: axes.dens[0], mass: axes.mass[0], chi: axes.chi[0] };
  buildParameterRow({ point: first, ...physics });
  for (const a of GRID_AXES) {
    for (const v of axes[a].slice(1)) buildParameterRow({ point: { ...first, [a]: v }, ...physics });
  }
  const extremes = (a: 'dens' | 'mass') => {
    const sorted = [...axes[a]].sort((x, y) => parseEncodedNumber(a, x) - parseEncodedNumber(a, y));
    return [sorted[0], sorted[sorted.length - 1]];
  };
  for (const dens of extremes('dens')) for (const mass of extremes('mass')) buildParameterRow({ point: { ...first, dens, mass }, ...physics });
}
