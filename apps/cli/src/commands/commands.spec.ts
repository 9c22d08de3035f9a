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

describe('words: problem is not failed; rate and ETA; statuses explained', () => {
  const { gridPace, gridListTable } = require('../output/summary') as typeof import('../output/summary');
  const { progressLine, tally } = require('../output/progress') as typeof import('../output/progress');
  const { statusesHelpText } = require('../output/statuses') as typeof import('../output/statuses');

  it('a grid whose points ended problem is never counted as failed', () => {
    const g = grid(counts({ finished: 4, problem: 2 }));
    expect(progressLine(tally(g.total, g.counts), 0, null)).toMatch(/done 4 {2}problem 2 {2}failed 0 /);
    const [header, , row] = gridListTable([g]).split('\n');
    expect(header).toMatch(/ TOTAL +DONE +PROBLEM +FAILED +RUNNING +QUEUED +CANCELLED$/);
    expect(row).toMatch(/ 6 +4 +2 +0 +0 +0 +0$/);
  });

  it('rate and ETA of an unfinished grid from its first start', () => {
    const g = { ...grid(counts({ finished: 6, running: 2, queued: 10 })), firstStartedAt: '2025-01-01T00:00:00Z' };
    // 6 ended in 60 s → 6/min; 12 left → 2 min
    expect(gridPace(g, Date.parse('2025-01-01T00:01:00Z'))).toBe('rate 6.0/min, ETA 2m00s (12 point(s) left)');
    expect(gridPace({ ...g, counts: counts({ finished: 18 }) }, Date.parse('2025-01-01T00:01:00Z'))).toBeNull();
    expect(gridPace({ ...g, counts: counts({ running: 2 }) }, Date.parse('2025-01-01T00:01:00Z'))).toBe('rate -, ETA - (2 point(s) left, none ended yet)');
  });

  it('pdr help statuses explains every status with what to do', () => {
    const text = statusesHelpText();
    for (const s of JOB_STATUSES) expect(text).toMatch(new RegExp(`^  ${s.replace('+', '\\+')} +\\S`, 'm'));
    expect(text.split('\n').filter((l) => l.includes('→')).length).toBeGreaterThanOrEqual(JOB_STATUSES.length);
  });
});
