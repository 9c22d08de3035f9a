/**
 * Bad input on every subject of the contract, against the services as real processes: malformed and
 * non-object JSON, invalid UTF-8, an empty payload, absurd nesting, wrong types, missing fields, another
 * schema version, a payload just under NATS' max_payload and one over it, unknown ids, unsafe names.
 * Every request is answered `{error:{code,message}}` (never a timeout, never a crash), the services keep
 * answering health pings and valid requests, and nothing reaches the database.
 * (test/state/contract.test.ts covers malformed JSON / wrong types / missing fields / v:2 / NOT_FOUND of
 * the state.* subjects; this file adds the rest and the planner.* and health subjects.)
 */
import { errorReply, GridRequest, names, RPC, RpcName } from '@pdr/contracts';
import { collectHealth, encodeJson } from '@pdr/messaging';
import { ProcStack, startProcStack } from '../support/proc-stack';

jest.setTimeout(120_000);

let s: ProcStack;
beforeAll(async () => {
  s = await startProcStack({ runners: 1, prefix: 'b' });
});
afterAll(async () => {
  await s?.close();
});

const ALL_RPCS = Object.keys(RPC) as RpcName[];
const enc = (t: string) => new TextEncoder().encode(t);

async function raw(name: RpcName, data: Uint8Array): Promise<unknown> {
  const msg = await s.nc.request(names(s.ns).rpc(name), data, { timeout: 15_000 });
  return JSON.parse(new TextDecoder().decode(msg.data));
}

/** The reply must be the contract's error reply with this code and a message. */
function expectError(reply: unknown, code: string, label: string): void {
  const parsed = errorReply.safeParse(reply);
  expect({ label, ok: parsed.success, code: parsed.success ? parsed.data.error.code : JSON.stringify(reply).slice(0, 300) }).toEqual({ label, ok: true, code });
  if (parsed.success) expect(parsed.data.error.message.length).toBeGreaterThan(0);
}

async function stillAnswering(): Promise<void> {
  const health = await collectHealth(s.nc, s.ns, 400);
  expect(new Set(health.map((h) => h.service))).toEqual(new Set(['state', 'planner', 'runner']));
  expect(Array.isArray((await s.client.request('gridList', { v: 1 })).grids)).toBe(true);
  for (const p of [s.state, s.planner, ...s.runners]) expect({ name: p.name, running: p.running }).toEqual({ name: p.name, running: true });
}

async function countRows(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['grids', 'model_names', 'users', 'kosmatau_parameters', 'pdr_model_jobs', 'job_attempts', 'hdf_files']) {
    out[t] = Number((await s.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))[0].n);
  }
  return out;
}

const MALFORMED: [string, Uint8Array][] = [
  ['truncated JSON', enc('{"v":1,')],
  ['empty payload', new Uint8Array(0)],
  ['not JSON at all', enc('hello state')],
  ['invalid UTF-8', Uint8Array.from([0xff, 0xfe, 0x7b, 0x22, 0x76, 0x22, 0x3a, 0x31, 0x7d])],
  ['JSON null', enc('null')],
  ['a JSON array', enc('[1,2,3]')],
  ['a JSON string', enc('"v"')],
  ['a JSON number', enc('42')],
  ['100 000 nested arrays', enc('['.repeat(100_000) + ']'.repeat(100_000))],
  ['50 000 nested objects', enc('{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000))],
  ['the version as a string', enc('{"v":"1"}')],
  ['another schema version', enc('{"v":2}')],
  ['a prototype-polluting key', enc('{"v":1,"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},"request":"x","selector":"x","jobId":"x","gridId":"x","limit":"x"}')],
];

describe.each(ALL_RPCS)('%s', (name) => {
  it('malformed, non-object, nested and wrong-version payloads → BAD_REQUEST, then still answering', async () => {
    for (const [label, data] of MALFORMED) {
      // gridList, jobsQuery and jobsOutstanding have defaults for every field (and health.ping has only v): an object with
      // a valid or defaulted version and unknown keys is a valid request there
      if (['a prototype-polluting key', '50 000 nested objects'].includes(label) && ['gridList', 'jobsQuery', 'jobsOutstanding', 'healthPing'].includes(name)) continue;
      expectError(await raw(name, data), 'BAD_REQUEST', `${name}: ${label}`);
    }
    await stillAnswering();
  });

  it('a payload just under max_payload is answered; one over it is refused to the client and the service keeps answering', async () => {
    const max = s.nc.info!.max_payload;
    const pad = 'x'.repeat(max - 2048);
    // valid version, junk content: every subject has at least one required or typed field it breaks
    const body = enc(JSON.stringify({ v: 1, jobId: 'x', gridId: 'x', selector: 'x', request: 'x', jobIds: 'x', limit: 'x', points: 'x', pad }));
    expect(body.length).toBeLessThan(max);
    expect(body.length).toBeGreaterThan(max - 4096);
    const reply = await raw(name, body);
    // health.ping has only `v`: unknown keys are ignored there
    if (name === 'healthPing') expect(reply).toMatchObject({ service: expect.any(String) });
    else expectError(reply, 'BAD_REQUEST', `${name}: near max_payload`);
    // over it: NATS refuses it on the client side, the typed client names it TOO_LARGE
    await expect(s.nc.request(names(s.ns).rpc(name), new Uint8Array(max + 1), { timeout: 5_000 })).rejects.toThrow(/payload/i);
    await stillAnswering();
  });
});

describe('health.ping', () => {
  it('answers a valid ping with every service', async () => {
    const health = await collectHealth(s.nc, s.ns, 700);
    expect(health.map((h) => h.service).sort()).toEqual(['planner', 'runner', 'state']);
  });
});

describe('planner.* with well-formed but bad content', () => {
  const base = (): GridRequest => s.request({ modelName: 'bad_planner' });
  const withRun = (run: Partial<GridRequest['run']>): GridRequest => ({ ...base(), run: { ...base().run, ...run } });

  it.each<[string, () => unknown]>([
    ['model name with a path', () => ({ ...base(), modelName: '../escape' })],
    ['absolute model name', () => ({ ...base(), modelName: '/tmp/escape' })],
    ['model name with NUL', () => ({ ...base(), modelName: 'a\u0000b' })],
    ['model name "."', () => ({ ...base(), modelName: '.' })],
    ['species with a path', () => ({ ...base(), onionSpecies: ['../../CO'] })],
    ['species with NUL', () => ({ ...base(), onionSpecies: ['C\u0000O'] })],
    ['executable outside the base dir', () => withRun({ pdrFileName: '../../../bin/sh' })],
    ['chemistry file as an absolute path', () => withRun({ chemDatabase: '/etc/passwd' })],
    ['template file with a path', () => withRun({ pdrinpTemplateFile: '../templates/PDRNEW.INP.template' })],
    ['Python in an axis value', () => ({ ...base(), axes: { ...base().axes, dens: ["__import__('os').system('id')"] } })],
    ['an axis value that is no number', () => ({ ...base(), axes: { ...base().axes, dens: ['0x1F'] } })],
    ['an empty axis', () => ({ ...base(), axes: { ...base().axes, chi: [] } })],
    ['no species', () => ({ ...base(), onionSpecies: [] })],
    ['a physics typo', () => ({ ...base(), physics: { ...base().physics, nonDefault: { Xhtyr: 1 } } })],
    ['a negative timeout', () => withRun({ timeouts: { pdrMs: -1, onionMs: 1000 } })],
    ['a description of 2 000 characters', () => ({ ...base(), description: 'd'.repeat(2000) })],
  ])('gridSubmit: %s → BAD_REQUEST naming the field, nothing persisted', async (label, make) => {
    const before = await countRows();
    const reply = await raw('gridSubmit', encodeJson({ v: 1, request: make() }));
    expectError(reply, 'BAD_REQUEST', label);
    expect(await countRows()).toEqual(before);
  });

  it('gridSubmit over maxPoints → TOO_LARGE, nothing persisted', async () => {
    const before = await countRows();
    const reply = await raw('gridSubmit', encodeJson({ v: 1, request: base(), maxPoints: 5 }));
    expectError(reply, 'TOO_LARGE', 'maxPoints');
    expect(JSON.stringify(reply)).toMatch(/6 points/);
    expect(await countRows()).toEqual(before);
  });

  it.each<[RpcName, unknown]>([
    ['plannerCancel', { v: 1, selector: { gridId: 987654 } }],
    ['plannerCancel', { v: 1, selector: { modelName: 'no_such_model' } }],
    ['plannerRetry', { v: 1, selector: { gridId: 987654 } }],
    ['plannerRetry', { v: 1, selector: { modelName: 'no_such_model' } }],
  ])('%s of an unknown grid → NOT_FOUND', async (name, payload) => {
    expectError(await raw(name, encodeJson(payload)), 'NOT_FOUND', `${name} ${JSON.stringify(payload)}`);
  });

  it.each<[RpcName, unknown]>([
    ['plannerCancel', { v: 1, selector: {} }],
    ['plannerCancel', { v: 1, selector: { gridId: 1, modelName: 'x' } }],
    ['plannerRetry', { v: 1, selector: { gridId: -3 } }],
    ['plannerRetry', { v: 1, selector: { modelName: '../x' } }],
    ['plannerCancel', { v: 1, selector: { gridId: 1 }, kill: 'yes' }],
  ])('%s with a bad selector → BAD_REQUEST', async (name, payload) => {
    expectError(await raw(name, encodeJson(payload)), 'BAD_REQUEST', `${name} ${JSON.stringify(payload)}`);
  });

  it('nothing was written by any of it, and a valid grid still runs', async () => {
    expect(await countRows()).toMatchObject({ grids: 0, kosmatau_parameters: 0, pdr_model_jobs: 0 });
    const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'after_bad_input', axes: { dens: ['30'], chi: ['10'] } }) });
    const grid = await s.waitDone(sub.gridId);
    expect(grid.counts.finished).toBe(1);
  });
});
