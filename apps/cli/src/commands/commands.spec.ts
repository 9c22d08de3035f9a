import { GridSummary, JOB_STATUSES, StatusCounts } from '@pdr/contracts';
import { UsageError } from '../errors';
import { parseGridRef } from './grid-ref';
import { parseStatus, csvHeader, CSV_PARAMETER_COLUMNS } from './jobs';
import { exitCodeOf } from './run';
import { missingServices } from './health';

const counts = (c: Partial<StatusCounts>): StatusCounts => ({ ...(Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts), ...c });
const grid = (c: StatusCounts): GridSummary => ({
  gridId: 1,
  modelName: 'm',
  modelPath: '/s/m',
  createdAt: '2025-01-01T00:00:00Z',
  total: Object.values(c).reduce((a, b) => a + b, 0),
  counts: c,
  firstStartedAt: null,
  lastFinishedAt: null,
  cancelRequested: false,
  seed: null,
});

describe('grid references', () => {
  it('digits are a grid id, anything else a model name', () => {
    expect(parseGridRef('42')).toEqual({ gridId: 42 });
    expect(parseGridRef('demo_grid')).toEqual({ modelName: 'demo_grid' });
  });
  it('rejects names that are paths or id 0', () => {
    expect(() => parseGridRef('../x')).toThrow(UsageError);
    expect(() => parseGridRef('0')).toThrow(UsageError);
  });
});

describe('pdr run exit status', () => {
  it('0 only when every point finished or was skipped', () => {
    expect(exitCodeOf(grid(counts({ finished: 3, skipped: 2 })))).toBe(0);
    expect(exitCodeOf(grid(counts({ finished: 3, problem: 1 })))).toBe(1);
    expect(exitCodeOf(grid(counts({ finished: 3, cancelled: 1 })))).toBe(1);
    expect(exitCodeOf(grid(counts({ finished: 3, failed: 1 })))).toBe(1);
  });
});

describe('pdr jobs', () => {
  it('parses comma and space separated statuses, rejects unknown ones', () => {
    expect(parseStatus('failed,problem', ['queued'])).toEqual(['queued', 'failed', 'problem']);
    expect(() => parseStatus('finshed')).toThrow(/unknown status "finshed"/);
  });
  it('CSV has the grid coordinates first and no chemistry list', () => {
    expect(CSV_PARAMETER_COLUMNS.slice(0, 5)).toEqual(['zmetal', 'xnsur', 'mass', 'sint', 'rtot']);
    expect(CSV_PARAMETER_COLUMNS).not.toContain('species');
    expect(new Set(csvHeader().split(',')).size).toBe(csvHeader().split(',').length);
  });
});

describe('pdr health', () => {
  it('names every service without an instance', () => {
    const r = (service: 'state' | 'planner' | 'runner') => ({ service, instanceId: 'x', version: 'v', startedAt: '2025-01-01T00:00:00Z', detail: {} });
    expect(missingServices([r('state'), r('runner')])).toEqual(['planner']);
    expect(missingServices([])).toEqual(['state', 'planner', 'runner']);
  });
});
