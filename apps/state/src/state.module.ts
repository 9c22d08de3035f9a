import { DynamicModule, Module } from '@nestjs/common';
import type { ServiceInfra } from '@pdr/messaging';
import { GridsController } from './grids/grids.controller';
import { TIMINGS, type StateTimings } from './infrastructure/options';
import { ProgressPublisher } from './infrastructure/progress';
import { INSTALLATION, LOGGER, NAMES, NATS, PROGRESS } from './infrastructure/tokens';
import { DispatchController } from './dispatch/dispatch.controller';
import { JobsController } from './jobs/jobs.controller';
import { PointsController } from './points/points.controller';
import { LegacyController } from './legacy/legacy.controller';

/** The state service's Nest module: one controller per area, infrastructure injected by token. */
@Module({})
export class StateModule {
  static with(infra: ServiceInfra, progress: ProgressPublisher, timings: StateTimings, installationId: string): DynamicModule {
    return {
      module: StateModule,
      controllers: [GridsController, PointsController, JobsController, DispatchController, LegacyController],
      providers: [
        { provide: NATS, useValue: infra.nc },
        { provide: NAMES, useValue: infra.n },
        { provide: LOGGER, useValue: infra.logger },
        { provide: PROGRESS, useValue: progress },
        { provide: TIMINGS, useValue: timings },
        { provide: INSTALLATION, useValue: installationId },
      ],
    };
  }
}
