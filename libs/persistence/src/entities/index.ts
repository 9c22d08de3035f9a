import { Grid, GridCount, GridExecutable, GridPoint, Installation, JobAttempt, JobFile, JobStep, LegacyImportRow, LegacyMerge } from './grid';
import { ChemicalDatabase, HdfFile, JsonFile, JsonTemplate, KosmatauExecutable, KosmatauParameters, ModelName, PdrModelJob, User } from './pdr-run';

export * from './pdr-run';
export * from './grid';

/** Every entity, for the ORM configuration. */
export const ALL_ENTITIES = [
  ModelName,
  User,
  KosmatauExecutable,
  ChemicalDatabase,
  KosmatauParameters,
  PdrModelJob,
  HdfFile,
  JsonTemplate,
  JsonFile,
  Grid,
  GridPoint,
  GridCount,
  GridExecutable,
  JobAttempt,
  JobStep,
  JobFile,
  Installation,
  LegacyMerge,
  LegacyImportRow,
];
