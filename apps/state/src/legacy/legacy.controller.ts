import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RpcRequestParsed } from '@pdr/contracts';
import { requestEm } from '../infrastructure/request-em';
import { importLegacyRows } from './import-rows';

/** pdr_run databases: `pdr db import` streams a SQLite file's rows here (the upgrade in place is `main.js upgrade`). */
@Controller()
export class LegacyController {
  @MessagePattern('legacyImport')
  import(req: RpcRequestParsed<'legacyImport'>) {
    return importLegacyRows(requestEm(), req);
  }
}
