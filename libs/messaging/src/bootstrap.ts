import { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import { ErrorReply, names, Names, namespaceFromEnv, RpcName } from '@pdr/contracts';
import { NestPinoLogger, type Logger } from '@pdr/logging';
import { NatsConnection } from 'nats';
import type { NatsConfig } from '@pdr/config';
import { connectNats } from './connection';
import { newInstanceId } from './process';
import { ContractNatsServer, PassThroughRpcFilter } from './contract-server';
import type { Admission } from './admission';

export interface ServiceInfra {
  nc: NatsConnection;
  ns: string;
  n: Names;
  logger: Logger;
  instanceId: string;
}

export interface ContractServiceOptions {
  service: 'state' | 'planner';
  logger: Logger;
  natsUrl?: string;
  /** Authentication/TLS; default the PDR_NATS_* variables. */
  natsSettings?: NatsConfig;
  ns?: string;
  /** Builds the Nest module with the infrastructure (connection, names, logger) it may inject. */
  module: (infra: ServiceInfra) => DynamicModule | Promise<DynamicModule>;
  around?: <T>(fn: () => Promise<T>) => Promise<T>;
  classifyError?: (err: unknown) => ErrorReply | undefined;
  detail?: () => Record<string, unknown>;
  version?: string;
  /** Told of every answered request (see ContractServerOptions.observe). */
  observe?: (rpc: RpcName, seconds: number, outcome: string, reply: unknown) => void;
  admission?: Admission<RpcName>;
}

export interface RunningService {
  infra: ServiceInfra;
  app: INestMicroservice;
  close(): Promise<void>;
}

/** Starts a Nest microservice answering contract subjects over NATS; `close()` drains it. */
export async function startContractService(o: ContractServiceOptions): Promise<RunningService> {
  const ns = o.ns ?? namespaceFromEnv();
  const nc = await connectNats({ url: o.natsUrl, name: o.service, settings: o.natsSettings });
  const infra: ServiceInfra = { nc, ns, n: names(ns), logger: o.logger, instanceId: newInstanceId(o.service) };
  const strategy = new ContractNatsServer({
    nc,
    ns,
    service: o.service,
    logger: o.logger,
    around: o.around,
    classifyError: o.classifyError,
    observe: o.observe,
    admission: o.admission,
    health: { instanceId: infra.instanceId, version: o.version ?? '0.1.0', startedAt: new Date().toISOString(), detail: o.detail },
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(await o.module(infra), {
    strategy,
    logger: new NestPinoLogger(o.logger),
  });
  app.useGlobalFilters(new PassThroughRpcFilter());
  await app.listen();
  o.logger.info({ ns, instanceId: infra.instanceId }, `${o.service} service listening`);
  let closed = false;
  return {
    infra,
    app,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await nc.drain().catch(() => undefined);
    },
  };
}
