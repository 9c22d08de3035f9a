import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { DISPATCHER } from '../infrastructure/tokens';
import { JobDispatcher } from './job-dispatcher';

/** planner.jobs.dispatch: state's reconciler hands over the jobs it put back to pending. */
@Controller()
export class DispatchController {
  constructor(@Inject(DISPATCHER) private readonly dispatcher: JobDispatcher) {}

  @MessagePattern('plannerDispatch')
  async dispatch(req: RpcRequestParsed<'plannerDispatch'>) {
    return { queued: await this.dispatcher.dispatch(req.installationId, req.jobs) };
  }
}
