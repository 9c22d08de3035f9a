import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { ProgressPublisher } from '../infrastructure/progress';
import { PROGRESS } from '../infrastructure/tokens';
import { markQueued } from './mark-queued';
import { upsertPoints } from './upsert-points';

@Controller()
export class PointsController {
  constructor(@Inject(PROGRESS) private readonly progress: ProgressPublisher) {}

  @MessagePattern('pointsUpsert')
  upsert(req: RpcRequestParsed<'pointsUpsert'>) {
    return this.progress.afterChange((em) => upsertPoints(em, req));
  }

  @MessagePattern('markQueued')
  markQueued(req: RpcRequestParsed<'markQueued'>) {
    return this.progress.afterChange((em) => markQueued(em, req));
  }
}
