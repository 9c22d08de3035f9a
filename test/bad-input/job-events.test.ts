/**
 * Malformed job events published straight to the job stream: the runner (a real process) terminates each
 * one (no redelivery, nothing recorded for it), keeps running and still runs the good jobs around them.
 */
import { names } from '@pdr/contracts';
import { encodeJson } from '@pdr/messaging';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { waitFor } from '../support/processes';

jest.setTimeout(120_000);

let s: ProcStack;
beforeAll(async () => {
  s = await startProcStack({ runners: 1, concurrency: 1, prefix: 'j' });
});
afterAll(async () => {
  await s?.close();
});

const enc = (t: string) => new TextEncoder().encode(t);
const MALFORMED = /"msg":"malformed job event dropped"/;
const UNKNOWN = /"msg":"job event for no known job dropped"/;

it('drops malformed and unknown job events (term) and keeps running the good ones', async () => {
  const n = names(s.ns);
  const js = s.nc.jetstream();
  const good1 = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'events_before', axes: { dens: ['30'], chi: ['10'] } }) });
  const bad: [string, Uint8Array][] = [
    ['not JSON', enc('run job 1 please')],
    ['empty', new Uint8Array(0)],
    ['invalid UTF-8', Uint8Array.from([0xc3, 0x28, 0xff])],
    ['JSON null', enc('null')],
    ['missing fields', enc('{}')],
    ['wrong types', encodeJson({ v: 1, jobId: 'one', gridId: [], generation: -1 })],
    ['another schema version', encodeJson({ v: 2, jobId: 1, gridId: good1.gridId, generation: 0 })],
    ['a negative job id', encodeJson({ v: 1, jobId: -5, gridId: good1.gridId, generation: 0 })],
    ['deep nesting', enc('['.repeat(50_000) + ']'.repeat(50_000))],
    ['half a megabyte of junk', enc(JSON.stringify({ v: 1, junk: 'j'.repeat(512 * 1024) }))],
  ];
  for (const [label, data] of bad) await js.publish(n.jobSubject(good1.gridId, 1), data, { msgID: `bad-${label}` });
  // well-formed, but for jobs that do not exist
  await js.publish(n.jobSubject(987654, 987654), encodeJson({ v: 1, jobId: 987654, gridId: 987654, generation: 0 }), { msgID: 'unknown-job' });
  await js.publish(n.jobSubject('not-a-grid', 876543), encodeJson({ v: 1, jobId: 876543, gridId: 1, generation: 0 }), { msgID: 'unknown-job-2' });
  const good2 = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'events_after', axes: { dens: ['40'], chi: ['10', '20'] } }) });

  expect((await s.waitDone(good1.gridId)).counts.finished).toBe(1);
  expect((await s.waitDone(good2.gridId)).counts.finished).toBe(2);
  const runner = s.runners[0];
  await waitFor('every bad event dropped', () => runner.lines.filter((l) => MALFORMED.test(l)).length === bad.length && runner.lines.filter((l) => UNKNOWN.test(l)).length === 2);
  expect(runner.running).toBe(true);
  // terminated, not given back: the stream is empty, nothing pending or waiting for an ack
  const jsm = await s.nc.jetstreamManager();
  // past ack_wait (4 s): a terminated event is never delivered again
  await new Promise((r) => setTimeout(r, 5_000));
  const info = await jsm.consumers.info(n.jobStream, n.jobConsumer);
  expect(info.num_redelivered).toBe(0);
  expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({ pending: 0, ackPending: 0 });
  expect((await jsm.streams.info(n.jobStream)).state.messages).toBe(0);
  // nothing recorded for them: three jobs, three attempts, all finished
  const rows = await s.sql<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM pdr_model_jobs GROUP BY status');
  expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([['finished', 3]]);
  expect(Number((await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM job_attempts'))[0].n)).toBe(3);
  expect(s.runs()).toHaveLength(3);
  // dropped once each, one log line each, without the payload
  const drops = runner.lines.filter((l) => MALFORMED.test(l));
  expect(drops).toHaveLength(bad.length);
  for (const l of drops) expect(l.length).toBeLessThan(2000);
});
