import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { ProgressPublisher } from '../infrastructure/progress';
import { requestEm } from '../infrastructure/request-em';
import { INSTALLATION, PROGRESS } from '../infrastructure/tokens';
import { cancelGrid } from './cancel-grid';
import { gridMap } from './grid-map';
import { gridList, gridStatus } from './grid-summary';
import { retryGrid } from './retry-grid';
import { upsertGrid } from './upsert-grid';

/** Grid subjects: each handler runs in the message's own entity manager (requestEm) and delegates. */
@Controller()
export class GridsController {
  constructor(
    @Inject(PROGRESS) private readonly progress: ProgressPublisher,
    @Inject(INSTALLATION) private readonly installationId: string,
  ) {}

  @MessagePattern('gridUpsert')
  async upsert(req: RpcRequestParsed<'gridUpsert'>) {
    return { ...(await upsertGrid(requestEm(), req)), installationId: this.installationId };
  }

  @MessagePattern('gridStatus')
  status(req: RpcRequestParsed<'gridStatus'>) {
    return gridStatus(requestEm(), req);
  }

  @MessagePattern('gridList')
  list(req: RpcRequestParsed<'gridList'>) {
    return gridList(requestEm(), req);
  }

  @MessagePattern('gridMap')
  map(req: RpcRequestParsed<'gridMap'>) {
    return gridMap(requestEm(), req);
  }

  @MessagePattern('gridCancel')
  cancel(req: RpcRequestParsed<'gridCancel'>) {
    return this.progress.afterChange((em) => cancelGrid(em, req));
  }

  @MessagePattern('gridRetry')
  async retry(req: RpcRequestParsed<'gridRetry'>) {
    return { ...(await this.progress.afterChange((em) => retryGrid(em, req))), installationId: this.installationId };
  }
}
