import { mockGridRequest } from '../../../../test/support/grid-request';
import { validateGridPhysics } from '@pdr/domain';
import type { GridRequest } from '@pdr/contracts';

/** What the planner checks before it stores anything (submit-grid.service.ts): the request's axes and physics. */
const validatePhysics = (r: GridRequest) => validateGridPhysics(r.axes, r.physics);

const request = (over: Parameters<typeof mockGridRequest>[2] = {}) => mockGridRequest('/base', '/storage', over);

describe('validatePhysics', () => {
  it('accepts a sound request', () => {
    expect(() => validatePhysics(request())).not.toThrow();
  });

  it('refuses alpha = 3 with a message naming it', () => {
    expect(() => validatePhysics(request({ physics: { alpha: 3, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} } }))).toThrow(/alpha/);
  });

  it('refuses an unknown non-default parameter by name', () => {
    expect(() => validatePhysics(request({ physics: { alpha: 1.5, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: { no_such_column: 1 } } }))).toThrow(/no_such_column/);
  });
});
