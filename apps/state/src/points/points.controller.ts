import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { ProgressPublisher } from '../infrastructure/progress';
import { requestEm } from '../infrastructure/request-em';
import { PROGRESS } from '../infrastructure/tokens';
import { markQueued } from './mark-queued';
import { upsertPoints } from './upsert-points';

@Controller()
export class PointsController {
  constructor(@Inject(PROGRESS) private readonly progress: ProgressPublisher) {}

  @MessagePattern('pointsUpsert')
  async upsert(req: RpcRequestParsed<'pointsUpsert'>) {
    const em = requestEm();
    const { reply, changed } = await upsertPoints(em, req);
    await this.progress.publishJobs(em, changed);
    return reply;
  }

  @MessagePattern('markQueued')
  async markQueued(req: RpcRequestParsed<'markQueued'>) {
    const em = requestEm();
    const { reply, changed } = await markQueued(em, req);
    await this.progress.publishJobs(em, changed);
    return reply;
  }
}
