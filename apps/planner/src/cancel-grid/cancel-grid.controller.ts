import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Names, RpcRequestParsed } from '@pdr/contracts';
import { ContractClient, encodeJson, JobStream } from '@pdr/messaging';
import { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { CLIENT, LOGGER, NAMES, NATS, STREAM } from '../infrastructure/tokens';

/**
 * Use case "cancel a grid": state turns pending/queued points into cancelled and flags running ones;
 * then the grid's job events are purged from the stream (by its subject filter), so a grid submitted
 * next never waits behind them; the cancel event tells runners to kill running ones at once when `kill`
 * is set (the heartbeat reply would tell them too, a little later). An event published after the purge
 * (a submission still in progress) loses the claim: the job is cancelled.
 */
@Controller()
export class CancelGridController {
  constructor(
    @Inject(CLIENT) private readonly state: ContractClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(NAMES) private readonly n: Names,
    @Inject(STREAM) private readonly stream: JobStream,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  @MessagePattern('plannerCancel')
  async cancel(req: RpcRequestParsed<'plannerCancel'>) {
    const reply = await this.state.request('gridCancel', req);
    const purged = await this.stream.purgeGrid(reply.gridId);
    this.nc.publish(this.n.gridCancelled, encodeJson({ v: 1, gridId: reply.gridId, kill: req.kill, at: new Date().toISOString() }));
    this.log.info({ ...reply, kill: req.kill, purged }, 'grid cancelled');
    return reply;
  }
}
