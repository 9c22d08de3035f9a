import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { SubmitGridService } from './submit-grid.service';


/** Validate (done by the transport against the contract), then delegate. */
@Controller()
export class SubmitGridController {
  constructor(@Inject(SubmitGridService) private readonly service: SubmitGridService) {}

  @MessagePattern('gridSubmit')
  submit(req: RpcRequestParsed<'gridSubmit'>) {
    return this.service.submit(req);
  }
}
