import { DynamicModule, Module } from '@nestjs/common';
import { ContractClient, JobStream, ServiceInfra } from '@pdr/messaging';
import { CancelGridController } from './cancel-grid/cancel-grid.controller';
import { DispatchController } from './dispatch/dispatch.controller';
import { JobDispatcher } from './dispatch/job-dispatcher';
import { CLIENT, DISPATCHER, LOGGER, NAMES, NATS, STREAM } from './infrastructure/tokens';
import { RetryGridController } from './retry-grid/retry-grid.controller';
import { SubmitGridController } from './submit-grid/submit-grid.controller';
import { SubmitGridService } from './submit-grid/submit-grid.service';

@Module({})
export class PlannerModule {
  static with(infra: ServiceInfra, parts: { client: ContractClient; stream: JobStream; dispatcher: JobDispatcher }): DynamicModule {
    return {
      module: PlannerModule,
      controllers: [SubmitGridController, CancelGridController, RetryGridController, DispatchController],
      providers: [
        SubmitGridService,
        { provide: NATS, useValue: infra.nc },
        { provide: NAMES, useValue: infra.n },
        { provide: LOGGER, useValue: infra.logger },
        { provide: CLIENT, useValue: parts.client },
        { provide: STREAM, useValue: parts.stream },
        { provide: DISPATCHER, useValue: parts.dispatcher },
      ],
    };
  }
}
