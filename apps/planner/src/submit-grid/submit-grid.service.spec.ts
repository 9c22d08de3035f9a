import { ContractError, DispatchJob, RpcRequestParsed } from '@pdr/contracts';
import type { ContractClient } from '@pdr/messaging';
import type { Logger } from 'pino';
import { mockGridRequest } from '../../../../test/support/grid-request';
import type { JobDispatcher } from '../dispatch/job-dispatcher';
import { SubmitGridService } from './submit-grid.service';

const quietLog = { info: () => undefined } as unknown as Logger;

type Upserted = [number, string, number, boolean];

/** State answering gridUpsert and pointsUpsert; `statuses` gives each new point's status in order. */
function fakeState(statuses: string[]) {
  const calls: string[] = [];
  let next = 0;
  const client = {
    request: async (name: string, body: { points?: unknown[] }) => {
      calls.push(name);
      if (name === 'gridUpsert') return { gridId: 9, installationId: 'db-1' };
      const jobs: Upserted[] = body.points!.map(() => {
        const i = next++;
        return [100 + i, statuses[i] ?? 'pending', 0, statuses[i] === undefined];
      });
      return { jobs };
    },
  } as unknown as ContractClient;
  return { client, calls };
}

function fakeDispatcher() {
  const dispatched: DispatchJob[] = [];
  const d = { dispatch: async (_db: string, jobs: readonly DispatchJob[]) => (dispatched.push(...jobs), jobs.length) } as unknown as JobDispatcher;
  return { d, dispatched };
}

const submit = (over: Parameters<typeof mockGridRequest>[2] = {}, maxPoints = 1000): RpcRequestParsed<'gridSubmit'> =>
  ({ v: 1, request: mockGridRequest('/base', '/storage', over), retryFailed: false, maxPoints }) as RpcRequestParsed<'gridSubmit'>;

describe('SubmitGridService', () => {
  it('persists the grid and its points, dispatches the pending ones and counts every status', async () => {
    const s = fakeState([undefined, 'queued', 'running', 'finished', 'failed', undefined] as unknown as string[]);
    const disp = fakeDispatcher();
    const r = await new SubmitGridService(s.client, disp.d, quietLog).submit(submit());
    expect(r).toMatchObject({ gridId: 9, total: 6, created: 2, queued: 3, inProgress: 1, alreadyDone: 1, notRetried: 1 });
    expect(disp.dispatched.map(([id]) => id)).toEqual([100, 105]);
    expect(s.calls[0]).toBe('gridUpsert');
  });

  it('refuses a grid over maxPoints (TOO_LARGE) before state is asked anything', async () => {
    const s = fakeState([]);
    const err = await new SubmitGridService(s.client, fakeDispatcher().d, quietLog).submit(submit({}, 5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err).toMatchObject({ code: 'TOO_LARGE' });
    expect((err as Error).message).toMatch(/6 points, more than the limit of 5/);
    expect(s.calls).toEqual([]);
  });

  it('refuses bad physics as BAD_REQUEST naming the value', async () => {
    const s = fakeState([]);
    const bad = submit({ physics: { alpha: 3, rcore: 0.2, chemistry: 'H H2 C C+ CO O', nonDefault: {} } });
    const err = await new SubmitGridService(s.client, fakeDispatcher().d, quietLog).submit(bad).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err as Error).message).toMatch(/alpha/);
    expect(s.calls).toEqual([]);
  });
});
