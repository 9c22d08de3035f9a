import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { LIMITS, RpcRequestParsed } from '@pdr/contracts';
import { ContractClient } from '@pdr/messaging';
import type { Logger } from 'pino';
import { JobDispatcher } from '../dispatch/job-dispatcher';
import { CLIENT, DISPATCHER, LOGGER } from '../infrastructure/tokens';
import { chunks } from '../submit-grid/grid-points';

/** Use case "retry a grid": state puts failed points back to pending with a new generation; we dispatch them. */
@Controller()
export class RetryGridController {
  constructor(
    @Inject(CLIENT) private readonly state: ContractClient,
    @Inject(DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  @MessagePattern('plannerRetry')
  async retry(req: RpcRequestParsed<'plannerRetry'>) {
    const { gridId, installationId, jobs } = await this.state.request('gridRetry', req, { timeoutMs: LIMITS.BATCH_REQUEST_TIMEOUT_MS });
    for (const batch of chunks(jobs, LIMITS.PLANNER_BATCH_POINTS)) {
      await this.dispatcher.dispatch(installationId, batch.map(([jobId, generation]) => [jobId, gridId, generation]));
    }
    this.log.info({ gridId, queued: jobs.length }, 'grid retried');
    return { gridId, queued: jobs.length };
  }
}
