import { validateGridPhysics } from './validate-grid';

const physics = { alpha: 1.5, rcore: 0.2, chemistry: 'H H2', nonDefault: {} };
const axes = (dens: string[], mass: string[]) => ({ metal: ['100'], dens, mass, chi: ['10'] });

describe('validateGridPhysics', () => {
  it('accepts an ordinary grid', () => {
    expect(() => validateGridPhysics(axes(['30', '40'], ['-10', '10']), physics)).not.toThrow();
  });

  it('finds a mass × density corner that no single-axis check sees', () => {
    // each value is fine with the other axis' first value; the corner (dens -2500, mass 2500) is not
    const a = axes(['30', '-2500'], ['-10', '2500']);
    expect(() => validateGridPhysics(a, physics)).toThrow();
  });

  it('names an unknown physics column', () => {
    expect(() => validateGridPhysics(axes(['30'], ['-10']), { ...physics, nonDefault: { cosrai: 1e-16 } })).toThrow(/cosray/);
  });
});
