import { DynamicModule, Module } from '@nestjs/common';
import { ContractClient, JobPublisher, ServiceInfra } from '@pdr/messaging';
import { CancelGridController } from './cancel-grid/cancel-grid.controller';
import { MeasuredJobPublisher, PlannerMetrics } from './infrastructure/metrics';
import { CLIENT, LOGGER, NAMES, NATS, PUBLISHER } from './infrastructure/tokens';
import { RetryGridController } from './retry-grid/retry-grid.controller';
import { SubmitGridController } from './submit-grid/submit-grid.controller';
import { SubmitGridService } from './submit-grid/submit-grid.service';

@Module({})
export class PlannerModule {
  static with(infra: ServiceInfra, metrics?: PlannerMetrics): DynamicModule {
    return {
      module: PlannerModule,
      controllers: [SubmitGridController, CancelGridController, RetryGridController],
      providers: [
        SubmitGridService,
        { provide: NATS, useValue: infra.nc },
        { provide: NAMES, useValue: infra.n },
        { provide: LOGGER, useValue: infra.logger },
        { provide: CLIENT, useValue: new ContractClient(infra.nc, infra.ns) },
        { provide: PUBLISHER, useValue: metrics ? new MeasuredJobPublisher(infra.nc, infra.n, metrics) : new JobPublisher(infra.nc, infra.n) },
      ],
    };
  }
}
