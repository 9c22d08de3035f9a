import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, MicroserviceOptions } from '@nestjs/microservices';
import { ContractError, names, RpcRequestParsed } from '@pdr/contracts';
import { NatsConnection } from 'nats';
import pino from 'pino';
import { NATS_URL, testNamespace } from '../../../test/support/env';
import { collectHealth, connectNats, ContractClient, ContractNatsServer, encodeJson, PassThroughRpcFilter, ServiceUnavailableError } from './index';

const ns = testNamespace();
const n = names(ns);
const calls: number[] = [];

@Controller()
class TestController {
  @MessagePattern('jobGet')
  get(req: RpcRequestParsed<'jobGet'>) {
    calls.push(req.jobId ?? 0);
    if (req.jobId === 404) throw new ContractError('NOT_FOUND', 'job 404 does not exist');
    if (req.jobId === 500) throw new Error('boom with secret details');
    return {
      job: { jobId: req.jobId, gridId: null, modelName: 'm', jobName: 'j', status: 'pending', attempt: 0, generation: 0, reason: null, timeOfStart: null, timeOfFinish: null, executionMs: null, heartbeatAt: null, runnerId: null, outputDirectory: null },
      attempts: [],
    };
  }
}
@Module({ controllers: [TestController] })
class TestModule {}

describe('ContractNatsServer + ContractClient (real NATS)', () => {
  let nc: NatsConnection;
  let app: Awaited<ReturnType<typeof NestFactory.createMicroservice>>;
  let client: ContractClient;
  let arounds = 0;

  beforeAll(async () => {
    nc = await connectNats({ url: NATS_URL, name: 'test' });
    const strategy = new ContractNatsServer({
      nc,
      ns,
      service: 'state',
      logger: pino({ level: 'silent' }),
      around: async (fn) => {
        arounds++;
        return fn();
      },
      health: { instanceId: 'i1', version: 'test', startedAt: new Date().toISOString() },
    });
    app = await NestFactory.createMicroservice<MicroserviceOptions>(TestModule, { strategy, logger: false });
    app.useGlobalFilters(new PassThroughRpcFilter());
    await app.listen();
    client = new ContractClient(nc, ns);
  });
  afterAll(async () => {
    await app.close();
    await nc.drain();
  });

  it('answers a valid request with a reply that matches the contract', async () => {
    const r = await client.request('jobGet', { v: 1, jobId: 7 });
    expect(r.job.jobId).toBe(7);
    expect(arounds).toBeGreaterThan(0);
  });

  it('passes a ContractError through as the structured error reply', async () => {
    await expect(client.request('jobGet', { v: 1, jobId: 404 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'job 404 does not exist' });
  });

  it('answers an unexpected error as INTERNAL without its message', async () => {
    const raw = await client.requestRaw(n.rpc('jobGet'), encodeJson({ v: 1, jobId: 500 }));
    expect(raw).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it.each([
    ['malformed JSON', new TextEncoder().encode('{"v":1,')],
    ['empty payload', new Uint8Array()],
    ['wrong type', encodeJson({ v: 1, jobId: 'seven' })],
    ['missing field', encodeJson({ v: 1 })],
    ['wrong version', encodeJson({ v: 99, jobId: 1 })],
    ['not an object', encodeJson([1, 2, 3])],
  ])('answers %s with BAD_REQUEST and keeps serving', async (_label, payload) => {
    const before = calls.length;
    const raw = (await client.requestRaw(n.rpc('jobGet'), payload)) as { error: { code: string; message: string } };
    expect(raw.error.code).toBe('BAD_REQUEST');
    expect(raw.error.message).toContain(n.rpc('jobGet'));
    expect(calls.length).toBe(before);
    const ok = await client.request('jobGet', { v: 1, jobId: 8 });
    expect(ok.job.jobId).toBe(8);
  });

  it('rejects an invalid request before sending it', async () => {
    await expect(client.request('jobGet', { v: 1, jobId: -1 } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('names the missing service when no one answers', async () => {
    const err = await client.request('gridSubmit', { v: 1 } as never).catch((e) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    const err2 = await client.request('jobClaim', { v: 1, jobId: 1, generation: 0, delivery: 1, runnerId: 'r' }).catch((e) => e);
    expect(err2).toBeInstanceOf(ServiceUnavailableError);
    expect(err2.message).toContain('state service is not running');
  });

  it('answers health pings', async () => {
    const replies = await collectHealth(nc, ns, 300);
    expect(replies).toEqual([expect.objectContaining({ service: 'state', instanceId: 'i1' })]);
  });
});
