import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { ProgressPublisher } from '../infrastructure/progress';
import { requestEm } from '../infrastructure/request-em';
import { INSTALLATION, PROGRESS } from '../infrastructure/tokens';
import { outstandingJobs, redispatch, takeStalePending } from './dispatch-jobs';

/** What the planner's dispatch sweep asks: which jobs need their event published (again). */
@Controller()
export class DispatchController {
  constructor(
    @Inject(PROGRESS) private readonly progress: ProgressPublisher,
    @Inject(INSTALLATION) private readonly installationId: string,
  ) {}

  @MessagePattern('jobsTakeStalePending')
  stalePending(req: RpcRequestParsed<'jobsTakeStalePending'>) {
    return takeStalePending(requestEm(), req, this.installationId);
  }

  @MessagePattern('jobsOutstanding')
  outstanding(req: RpcRequestParsed<'jobsOutstanding'>) {
    return outstandingJobs(requestEm(), req, this.installationId);
  }

  @MessagePattern('jobsRedispatch')
  redispatch(req: RpcRequestParsed<'jobsRedispatch'>) {
    return this.progress.afterChange((em) => redispatch(em, req, this.installationId));
  }
}
