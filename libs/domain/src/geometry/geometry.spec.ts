import { InvalidParameterValue } from '../encoding/encoding';
import { computeMass, computeRadius, GeometryError } from './geometry';

describe('geometry (values printed by pdr_run\'s Python formulas)', () => {
  it('computeRadius equals pdr_run bit for bit', () => {
    expect(computeRadius(0.1, 1000, 1.5, 0.2)).toBe(2.4577932483395914e17);
    expect(computeRadius(0.1, 1000, 0, 0.2)).toBe(3.049757920168306e17);
    expect(computeRadius(31.622776601683793, 316227.7660168379, 2.0, 0.1)).toBe(2.163777949622062e17);
    expect(computeRadius(1e3, 1e2, 4.0, 0.2)).toBe(5.505317799071375e18); // α > 3 is fine
  });

  it('computeMass equals pdr_run and inverts computeRadius to ~1e-5', () => {
    expect(computeMass(2.4577932483395914e17, 1000, 1.5, 0.2)).toBe(0.1000012444071159);
    expect(computeMass(1e17, 1e4, 0.5, 0.3)).toBe(0.04195731761559084);
    const r = computeRadius(3.7, 5e4, 1.2, 0.25);
    expect(Math.abs(computeMass(r, 5e4, 1.2, 0.25) / 3.7 - 1)).toBeLessThan(1e-4);
  });

  it('alpha = 3 is a clear error, not Infinity/NaN', () => {
    expect(() => computeRadius(0.1, 1000, 3, 0.2)).toThrow(InvalidParameterValue);
    expect(() => computeRadius(0.1, 1000, 3, 0.2)).toThrow(/alpha = 3/);
    expect(() => computeMass(1e17, 1000, 3, 0.2)).toThrow(/alpha = 3/);
  });

  it('rejects non-physical inputs', () => {
    expect(() => computeRadius(0, 1000, 1.5, 0.2)).toThrow(/mass/);
    expect(() => computeRadius(0.1, -1, 1.5, 0.2)).toThrow(/density/);
    expect(() => computeRadius(0.1, 1000, Number.NaN, 0.2)).toThrow(/alpha/);
    expect(() => computeRadius(0.1, 1000, 1.5, 0)).toThrow(/rcore/);
    // α slightly above 3 with a large core term makes the volume factor negative
    expect(() => computeRadius(0.1, 1000, 3.2, 5)).toThrow(GeometryError);
  });
});
