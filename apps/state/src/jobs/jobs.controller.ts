import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import type { StateTimings } from '../infrastructure/options';
import { TIMINGS } from '../infrastructure/options';
import { ProgressPublisher } from '../infrastructure/progress';
import { requestEm } from '../infrastructure/request-em';
import { PROGRESS } from '../infrastructure/tokens';
import { abandonJob } from './abandon-job';
import { claimJob } from './claim-job';
import { ExecutableCache, finishJob } from './finish-job';
import { getJob } from './get-job';
import { heartbeat } from './heartbeat';
import { queryJobs } from './query-jobs';
import { recordSteps } from './record-step';
import { releaseJob } from './release-job';

@Controller()
export class JobsController {
  /** Executables this instance has recorded (one controller per state instance). */
  private readonly executables = new ExecutableCache();

  constructor(
    @Inject(PROGRESS) private readonly progress: ProgressPublisher,
    @Inject(TIMINGS) private readonly timings: StateTimings,
  ) {}

  @MessagePattern('jobClaim')
  async claim(req: RpcRequestParsed<'jobClaim'>) {
    const em = requestEm();
    const { reply, changed } = await claimJob(em, req, { staleHeartbeatMs: this.timings.staleHeartbeatMs });
    await this.progress.publishJobs(em, changed);
    return reply;
  }

  @MessagePattern('jobHeartbeat')
  heartbeat(req: RpcRequestParsed<'jobHeartbeat'>) {
    return heartbeat(requestEm(), req);
  }

  @MessagePattern('jobStep')
  step(req: RpcRequestParsed<'jobStep'>) {
    return recordSteps(requestEm(), req);
  }

  @MessagePattern('jobFinish')
  async finish(req: RpcRequestParsed<'jobFinish'>) {
    const em = requestEm();
    const { reply, changed } = await finishJob(em, req, this.executables);
    await this.progress.publishJobs(em, changed);
    return reply;
  }

  @MessagePattern('jobRelease')
  async release(req: RpcRequestParsed<'jobRelease'>) {
    const em = requestEm();
    const { reply, changed } = await releaseJob(em, req);
    await this.progress.publishJobs(em, changed);
    return reply;
  }

  @MessagePattern('jobAbandon')
  async abandon(req: RpcRequestParsed<'jobAbandon'>) {
    const em = requestEm();
    const { reply, changed } = await abandonJob(em, req, { staleHeartbeatMs: this.timings.staleHeartbeatMs });
    await this.progress.publishJobs(em, changed);
    return reply;
  }

  @MessagePattern('jobsQuery')
  query(req: RpcRequestParsed<'jobsQuery'>) {
    return queryJobs(requestEm(), req);
  }

  @MessagePattern('jobGet')
  get(req: RpcRequestParsed<'jobGet'>) {
    return getJob(requestEm(), req);
  }
}
