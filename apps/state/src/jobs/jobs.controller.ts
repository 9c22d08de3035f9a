import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import type { StateTimings } from '../infrastructure/options';
import { TIMINGS } from '../infrastructure/options';
import { ProgressPublisher } from '../infrastructure/progress';
import { requestEm } from '../infrastructure/request-em';
import { INSTALLATION, PROGRESS } from '../infrastructure/tokens';
import { abandonJob } from './abandon-job';
import { claimJob } from './claim-job';
import { ExecutableCache, finishJob } from './finish-job';
import { estimateJobs } from './estimate-jobs';
import { getJob } from './get-job';
import { heartbeat, heartbeatMany } from './heartbeat';
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
    @Inject(INSTALLATION) private readonly installationId: string,
  ) {}

  @MessagePattern('jobClaim')
  claim(req: RpcRequestParsed<'jobClaim'>) {
    return this.progress.afterChange((em) => claimJob(em, req, { staleHeartbeatMs: this.timings.staleHeartbeatMs, installationId: this.installationId }));
  }

  @MessagePattern('jobHeartbeat')
  heartbeat(req: RpcRequestParsed<'jobHeartbeat'>) {
    return heartbeat(requestEm(), req);
  }

  @MessagePattern('jobsHeartbeat')
  heartbeats(req: RpcRequestParsed<'jobsHeartbeat'>) {
    return heartbeatMany(requestEm(), req);
  }

  @MessagePattern('jobStep')
  step(req: RpcRequestParsed<'jobStep'>) {
    return recordSteps(requestEm(), req);
  }

  @MessagePattern('jobFinish')
  finish(req: RpcRequestParsed<'jobFinish'>) {
    return this.progress.afterChange((em) => finishJob(em, req, this.executables));
  }

  @MessagePattern('jobRelease')
  release(req: RpcRequestParsed<'jobRelease'>) {
    return this.progress.afterChange((em) => releaseJob(em, req));
  }

  @MessagePattern('jobAbandon')
  abandon(req: RpcRequestParsed<'jobAbandon'>) {
    return this.progress.afterChange((em) => abandonJob(em, req, { staleHeartbeatMs: this.timings.staleHeartbeatMs }));
  }

  @MessagePattern('jobsQuery')
  query(req: RpcRequestParsed<'jobsQuery'>) {
    return queryJobs(requestEm(), req);
  }

  @MessagePattern('jobsEstimate')
  estimate(req: RpcRequestParsed<'jobsEstimate'>) {
    return estimateJobs(requestEm(), req);
  }

  @MessagePattern('jobGet')
  get(req: RpcRequestParsed<'jobGet'>) {
    return getJob(requestEm(), req);
  }
}
