import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Names, RpcRequestParsed } from '@pdr/contracts';
import { ContractClient, encodeJson } from '@pdr/messaging';
import { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { CLIENT, LOGGER, NAMES, NATS } from '../infrastructure/tokens';

/**
 * Use case "cancel a grid": state turns pending/queued points into cancelled (runners then lose the claim
 * and drop the events) and flags running ones; the cancel event tells runners to kill them at once
 * when `kill` is set (the heartbeat reply would tell them too, a little later).
 */
@Controller()
export class CancelGridController {
  constructor(
    @Inject(CLIENT) private readonly state: ContractClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly n: Names,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  @MessagePattern('plannerCancel')
  async cancel(req: RpcRequestParsed<'plannerCancel'>) {
    const reply = await this.state.request('gridCancel', req);
    this.nc.publish(this.n.gridCancelled, encodeJson({ v: 1, gridId: reply.gridId, kill: req.kill, at: new Date().toISOString() }));
    this.log.info({ ...reply, kill: req.kill }, 'grid cancelled');
    return reply;
  }
}
