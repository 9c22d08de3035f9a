/**
 * The planner's pipelined submission (state upserts batch k + 1 while batch k is published and marked):
 * a grid of several batches ends with the same counts and rows as before; a failure in either stage
 * fails the submission with that error only after the other stage in flight has settled (no request of
 * the submission outlives its reply, no unhandled rejection), and a resubmission repairs the rest.
 */
import { ContractError, LIMITS, names, RPC, RpcName } from '@pdr/contracts';
import { ContractClient, JobStream } from '@pdr/messaging';
import { JobDispatcher } from '../../apps/planner/src/dispatch/job-dispatcher';
import { SubmitGridService } from '../../apps/planner/src/submit-grid/submit-grid.service';
import { quiet, Stack, startStack } from '../support/stack';

jest.setTimeout(180_000);

// 3 batches: two full ones and a partial one
const DENS = Array.from({ length: 24 }, (_, i) => String(20 + i));
const CHI = Array.from({ length: 501 }, (_, i) => String(i));
const TOTAL = DENS.length * CHI.length;

let s: Stack;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  s = await startStack({ runners: 0 });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await s?.close();
});

/** The real state client, with one call of one RPC failing (after state answered it) and a count of calls in flight. */
function faultyClient(failing: RpcName, nth: number) {
  const real = s.client;
  const calls: Record<string, number> = {};
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async request(name: RpcName, req: unknown, opts?: unknown) {
      const n = (calls[name] = (calls[name] ?? 0) + 1);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const reply = await (real.request as (...a: unknown[]) => Promise<unknown>).call(real, name, req, opts);
        if (name === failing && n === nth) throw new ContractError('UNAVAILABLE', `injected failure of ${name} #${n}`);
        return reply;
      } finally {
        inFlight--;
      }
    },
  };
  return { client: client as unknown as ContractClient, calls, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

function service(client: ContractClient): SubmitGridService {
  return new SubmitGridService(client, new JobDispatcher(client, new JobStream(s.nc, names(s.ns)), quiet('planner') as never), quiet('planner') as never);
}

function submitRequest(modelName: string) {
  return RPC.gridSubmit.request.parse({ v: 1, request: s.request({ modelName, axes: { dens: DENS, chi: CHI } }) });
}

async function counts(gridId: number) {
  const r = await s.client.request('gridStatus', { v: 1, selector: { gridId } });
  return { total: r.grid.total, ...r.grid.counts };
}

it(`a grid of ${TOTAL} points (3 batches): every point created, published and queued once; resubmitting inserts nothing`, async () => {
  expect(Math.ceil(TOTAL / LIMITS.PLANNER_BATCH_POINTS)).toBe(3);
  const probe = faultyClient('healthPing', 0);
  const first = await service(probe.client).submit(submitRequest('pipelined'));
  expect(first).toMatchObject({ total: TOTAL, created: TOTAL, queued: TOTAL, alreadyDone: 0, inProgress: 0, notRetried: 0 });
  expect(probe.calls).toEqual({ gridUpsert: 1, pointsUpsert: 3, markQueued: 3 });
  expect(probe.maxInFlight()).toBe(2); // an upsert and a mark overlapped
  expect(await counts(first.gridId)).toMatchObject({ total: TOTAL, pending: 0, queued: TOTAL });

  const again = await s.client.request('gridSubmit', { v: 1, request: submitRequest('pipelined').request });
  expect(again).toMatchObject({ gridId: first.gridId, total: TOTAL, created: 0, queued: TOTAL });
  expect(await counts(first.gridId)).toMatchObject({ total: TOTAL, pending: 0, queued: TOTAL });
  expect(unhandled).toEqual([]);
});

it.each([
  ['markQueued of batch 1 fails while batch 2 is upserted', 'markQueued' as const, 1],
  ['the upsert of batch 2 fails while batch 1 is published and marked', 'pointsUpsert' as const, 2],
])('%s: the submission fails with that error once nothing is in flight; a resubmission completes it', async (_label, rpc, nth) => {
  const modelName = `pipelined_fail_${rpc}`;
  const faulty = faultyClient(rpc, nth);
  let inFlightAtFailure = -1;
  await expect(
    service(faulty.client)
      .submit(submitRequest(modelName))
      .catch((err) => {
        inFlightAtFailure = faulty.inFlight();
        throw err;
      }),
  ).rejects.toThrow(`injected failure of ${rpc} #${nth}`);
  expect(inFlightAtFailure).toBe(0);
  // it stopped there: no third batch was sent
  expect(faulty.calls.pointsUpsert).toBe(2);

  const again = await s.client.request('gridSubmit', { v: 1, request: submitRequest(modelName).request });
  expect(again).toMatchObject({ total: TOTAL, created: TOTAL - 2 * LIMITS.PLANNER_BATCH_POINTS, queued: TOTAL });
  expect(await counts(again.gridId)).toMatchObject({ total: TOTAL, pending: 0, queued: TOTAL });
  expect(unhandled).toEqual([]);
});
