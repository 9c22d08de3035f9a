import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { LIMITS, RpcRequestParsed } from '@pdr/contracts';
import { ContractClient, JobPublisher } from '@pdr/messaging';
import type { Logger } from 'pino';
import { chunks } from '../submit-grid/grid-points';
import { CLIENT, LOGGER, PUBLISHER } from '../infrastructure/tokens';

/** Use case "retry a grid": state puts failed points back to pending with a new generation; we queue them. */
@Controller()
export class RetryGridController {
  constructor(
    @Inject(CLIENT) private readonly state: ContractClient,
    @Inject(PUBLISHER) private readonly publisher: JobPublisher,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  @MessagePattern('plannerRetry')
  async retry(req: RpcRequestParsed<'plannerRetry'>) {
    const { gridId, jobs } = await this.state.request('gridRetry', req, { timeoutMs: LIMITS.BATCH_REQUEST_TIMEOUT_MS });
    for (const batch of chunks(jobs, LIMITS.PLANNER_BATCH_POINTS)) {
      await this.publisher.publish(batch.map(([jobId, generation]) => ({ v: 1 as const, jobId, gridId, generation })));
      await this.state.request('markQueued', { v: 1, jobIds: batch.map(([id]) => id) }, { timeoutMs: LIMITS.BATCH_REQUEST_TIMEOUT_MS });
    }
    this.log.info({ gridId, queued: jobs.length }, 'grid retried');
    return { gridId, queued: jobs.length };
  }
}
