import { ExecutableInfo, PdrFileRole, RpcReply, RpcRequestParsed, StoredFileInfo } from '@pdr/contracts';
import {
  countsOf,
  Em,
  ident,
  intervalToDbTime,
  JobFileColumn,
  packetTransaction,
  placeholders,
  rowsOf,
  setStatusSql,
  SqlValue,
  Stmt,
  stmt,
  toDbTime,
  transaction,
  upsertExecutable,
} from '@pdr/persistence';
import { PROGRESS_COLUMNS_SQL, ProgressRow } from '../infrastructure/progress';
import { loadJobStateOrFail } from './load-job';
import { insertStepsOnce, insertStepsStmt } from './record-step';

/**
 * pdr_run's job columns per stored file role (SPEC §5.11; `output_hdf5_file`, never written by
 * pdr_run, now holds the HDF5 structure file). Values are the stored full paths.
 */
export const ROLE_COLUMNS: Readonly<Partial<Record<PdrFileRole, readonly JobFileColumn[]>>> = {
  hdf4: ['output_hdf4_file'],
  hdf5_struct: ['output_hdf5_file'],
  textout: ['output_textout_file', 'log_file'],
  chemchk: ['output_chemchk_file'],
  mcdrt: ['output_mcdrt_zip_file'],
  ctrl_ind: ['output_ctrl_ind_file'],
  pdrnew: ['input_pdrnew_inp_file'],
  json: ['input_json_file'],
};

/** The three HDF files of hdf_files (HDF4, HDF5 structure `_hdf5_s`, HDF5 chemistry `_hdf5_c`). */
const HDF_ROLES: ReadonlyArray<[PdrFileRole, string]> = [
  ['hdf4', ''],
  ['hdf5_struct', '_hdf5_s'],
  ['hdf5_chem', '_hdf5_c'],
];

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '') : p.slice(0, i);
}

/** Most entries an ExecutableCache keeps before it starts over (a few per grid are usual). */
const EXECUTABLE_CACHE_MAX = 10_000;

/**
 * What this state instance has already recorded of executables: identity → kosmatau_executables id, and
 * which (grid, executable, role) rows exist. Every job of a grid reports the same two executables; without
 * the cache each finish wrote them again (4 statements per job). Rows are only ever added, never deleted,
 * and entries are added after their transaction committed, so a hit always names a row that exists.
 */
export class ExecutableCache {
  private readonly ids = new Map<string, number>();
  private readonly gridRows = new Set<string>();

  idOf(x: ExecutableInfo): number | undefined {
    return this.ids.get(identityKey(x));
  }

  hasGridRow(gridId: number, exeId: number, role: string): boolean {
    return this.gridRows.has(`${gridId}:${exeId}:${role}`);
  }

  remember(learned: { ids: Array<[ExecutableInfo, number]>; gridRows: Array<[number, number, string]> }): void {
    if (this.ids.size + this.gridRows.size > EXECUTABLE_CACHE_MAX) {
      this.ids.clear();
      this.gridRows.clear();
    }
    for (const [x, id] of learned.ids) this.ids.set(identityKey(x), id);
    for (const [g, e, r] of learned.gridRows) this.gridRows.add(`${g}:${e}:${r}`);
  }
}

function identityKey(x: ExecutableInfo): string {
  return JSON.stringify([x.fileName, x.fullPath, x.sha256, x.revision, x.compilationDate, x.reasons]);
}

/**
 * Use case "finish": compare-and-set running(attempt) → the outcome, in one transaction with
 * everything the outcome carries: pdr_run's times (execution_time as an Interval DATETIME, always
 * written) and execution_ms, the reason, the job's file columns from the stored files' roles, one
 * hdf_files row per job (the HDF files that exist), a json_files row for the stored pdr_config json,
 * the executables (kosmatau_executables + grid_executables; the pdr one on the job), the user and
 * chemistry of the job's grid, job_files, and the attempt closed. A second report of the same
 * outcome, or a report from an attempt that lost the job → applied:false (not an error).
 *
 * Steps the runner had not reported yet come with the outcome and are recorded before it when the CAS
 * applies; for an attempt that lost the job they are recorded all the same, each step once (the runner
 * repeats a report whose answer it did not get).
 *
 * Per job of a known grid that is two packets to MariaDB (packetTransaction): BEGIN, the CAS (which also
 * sets the executable, user and chemistry) and one SELECT (which also gives the progress event's columns);
 * then steps, job_files, hdf_files, json_files, the attempt and COMMIT. It was eight round trips, one per
 * statement through knex, each with its turn of state's event loop; state's CPU bounds the lifecycle
 * rate (docs/benchmarks.md, "Fourth pass": 8–12 → 6–8 ms per lifecycle). The statements stay SQL rather
 * than entities, nativeUpdate or insertMany: the ORM path costs 2–3× the CPU per statement (raw 50–86 µs,
 * QueryBuilder 130–155 µs, nativeUpdate 210 µs, em.insert 155 µs, MikroORM 6.6 warm, same connection).
 * The executables' get-or-create (once per grid and state instance) goes through libs/persistence's
 * upsertExecutable, in a transaction of its own before the CAS; a report the CAS refuses (a repeat, or an
 * attempt that lost the job) is answered from a second transaction through the ORM.
 */
export async function finishJob(
  em: Em,
  req: RpcRequestParsed<'jobFinish'>,
  executables: ExecutableCache = new ExecutableCache(),
): Promise<{ reply: RpcReply<'jobFinish'>; changed: number[]; progress: ProgressRow[] }> {
  // executables first (get-or-create, committed on their own: harmless if the CAS then fails; once per
  // grid and state instance, the cache answers the rest): the pdr one goes on the job
  const unknown = req.executables.filter((x) => executables.idOf(x) === undefined);
  if (unknown.length) {
    const ids = await transaction(em, async (tem) => {
      const out: Array<[ExecutableInfo, number]> = [];
      for (const x of unknown) {
        const comment = x.reasons.length ? x.reasons.join('; ').slice(0, 250) : null;
        out.push([x, await upsertExecutable(tem, { fileName: x.fileName, fullPath: x.fullPath, sha256: x.sha256, revision: x.revision, compilationDate: x.compilationDate, comment })]);
      }
      return out;
    });
    executables.remember({ ids, gridRows: [] });
  }
  const exeIds: Array<[ExecutableInfo, number]> = req.executables.map((x) => [x, executables.idOf(x)!]);
  const pdrExeId = exeIds.find(([x]) => x.role === 'pdr')?.[1] ?? null;
  let gridRows: Array<[number, number, string]> = [];
  const result = await packetTransaction(em, async (tx) => {
    // first packet: BEGIN, the CAS, and the job's keys with its progress event's columns as this
    // transaction sees them after the CAS (no query after the commit); the read is used only when the CAS
    // applied
    const [cas, keys] = await tx.send(finishCasStatements(req, pdrExeId));
    if (countsOf(cas).affectedRows !== 1) return null; // nothing changed; committed empty
    const job = rowsOf<FinishedJobRow>(keys)[0];
    gridRows = job.grid_id === null ? [] : exeIds.filter(([x, id]) => !executables.hasGridRow(job.grid_id!, id, x.role)).map(([x, id]) => [job.grid_id!, id, x.role]);
    // second packet: everything the outcome carries, and COMMIT. MariaDB stops a packet at its first
    // failing statement (nothing after it runs, COMMIT included) and the transaction is rolled back
    await tx.send(finishWriteStatements(req, job, pdrExeId, gridRows), { commit: true });
    return job;
  });
  if (result === null) {
    return transaction(em, async (tem) => {
      const now = await loadJobStateOrFail(tem, req.jobId);
      // an attempt that lost the job (reclaimed by a later one) still has its history kept
      if (req.attempt < now.attempt) await insertStepsOnce(tem, req.jobId, req.attempt, req.steps);
      return { reply: { applied: false, status: now.status }, changed: [], progress: [] };
    });
  }
  executables.remember({ ids: [], gridRows }); // only after the commit: a rolled-back row is never taken as recorded
  const { id, grid_ids, model_job_name, status, attempt, reason, at, execution_ms } = result;
  return { reply: { applied: true, status: req.status }, changed: [req.jobId], progress: [{ id, grid_ids, model_job_name, status, attempt, reason, at, execution_ms }] };
}

/** The finished job's keys and its progress event's columns, read after the CAS. */
export type FinishedJobRow = { grid_id: number | null; kosmatau_parameters_id: number | null; model_name_id: number | null } & ProgressRow;

/** One stored file per role (the last one sent wins). */
function filesByRole(req: RpcRequestParsed<'jobFinish'>): StoredFileInfo[] {
  return [...new Map(req.files.map((f) => [f.role, f])).values()];
}

/**
 * The finish's first packet: [0] the CAS running(attempt) → the outcome, with pdr_run's times, the file
 * columns of the stored files' roles, the pdr executable, the grid's user and chemistry; [1] the job's
 * keys and progress columns (FinishedJobRow). Also the bench's SQL floor (test/bench/load.js).
 */
export function finishCasStatements(req: RpcRequestParsed<'jobFinish'>, pdrExeId: number | null): Stmt[] {
  const fileSets: string[] = [];
  const fileValues: SqlValue[] = [];
  for (const f of filesByRole(req)) {
    for (const col of ROLE_COLUMNS[f.role as PdrFileRole] ?? []) {
      fileSets.push(`, ${ident(col)} = ?`);
      fileValues.push(f.fullPath);
    }
  }
  return [
    stmt(
      `UPDATE pdr_model_jobs SET ${setStatusSql(req.status)}, version = version + 1, heartbeat_at = NULL, reason = ?,
         time_of_start = ?, time_of_finish = ?, execution_time = ?, execution_ms = ?${fileSets.join('')},
         kosmatau_executable_id = COALESCE(?, kosmatau_executable_id),
         user_id = COALESCE((SELECT g.user_id FROM grids g WHERE g.id = pdr_model_jobs.grid_id), user_id),
         chemical_database_id = COALESCE((SELECT g.chemical_database_id FROM grids g WHERE g.id = pdr_model_jobs.grid_id), chemical_database_id)
       WHERE id = ? AND attempt = ? AND status = 'running'`,
      [
        req.reason,
        toDbTime(req.startedAt, 'startedAt'),
        toDbTime(req.finishedAt, 'finishedAt'),
        intervalToDbTime(req.executionMs),
        req.executionMs,
        ...fileValues,
        pdrExeId,
        req.jobId,
        req.attempt,
      ],
    ),
    stmt(`SELECT j.id, j.grid_id, j.kosmatau_parameters_id, j.model_name_id, ${PROGRESS_COLUMNS_SQL} FROM pdr_model_jobs j WHERE j.id = ?`, [req.jobId]),
  ];
}

/**
 * The finish's second packet, after a CAS that applied: the steps not reported yet, the grid's executable
 * rows not yet recorded (`gridRows`: grid, executable id, role), job_files (replacing an earlier attempt's
 * set), hdf_files, json_files and the attempt closed. Also the bench's SQL floor.
 */
export function finishWriteStatements(req: RpcRequestParsed<'jobFinish'>, job: Omit<FinishedJobRow, keyof ProgressRow>, pdrExeId: number | null, gridRows: ReadonlyArray<[number, number, string]>): Stmt[] {
  const files = filesByRole(req);
  const writes: Stmt[] = [];
  const steps = insertStepsStmt(req.jobId, req.attempt, req.steps);
  if (steps) writes.push(steps);
  for (const [g, e, role] of gridRows) writes.push(stmt('INSERT INTO grid_executables (grid_id, executable_id, role) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE role = role', [g, e, role]));
  writes.push(...jobFilesStmts(req.jobId, req.attempt, files));
  const hdf = hdfFilesStmt(req.jobId, pdrExeId, job.kosmatau_parameters_id, job.model_name_id, files);
  if (hdf) writes.push(hdf);
  const json = files.find((f) => f.role === 'json');
  if (json) {
    writes.push(
      stmt(
        `INSERT INTO json_files (name, path, sha256_sum, created_at, job_id) VALUES (?, ?, ?, NOW(3), ?)
         ON DUPLICATE KEY UPDATE path = VALUES(path), sha256_sum = VALUES(sha256_sum), created_at = VALUES(created_at)`,
        [json.fileName, json.fullPath, json.sha256, req.jobId],
      ),
    );
  }
  writes.push(
    stmt(`UPDATE job_attempts SET status = ?, reason = ?, exit_codes = ?, finished_at = ? WHERE job_id = ? AND attempt = ?`, [
      req.status,
      req.reason,
      JSON.stringify(req.exitCodes),
      toDbTime(req.finishedAt, 'finishedAt'),
      req.jobId,
      req.attempt,
    ]),
  );
  return writes;
}

/** The job's stored files: the latest finished attempt's set replaces the earlier one. */
function jobFilesStmts(jobId: number, attempt: number, files: StoredFileInfo[]): Stmt[] {
  const out: Stmt[] = [];
  // attempt 1 is the job's first claim ever (attempts only count up): no earlier set to replace
  if (attempt > 1) out.push(stmt('DELETE FROM job_files WHERE job_id = ?', [jobId]));
  if (!files.length) return out;
  const values: SqlValue[] = [];
  for (const f of files) values.push(jobId, attempt, f.role, f.fileName, f.relPath, f.fullPath, f.size, toDbTime(f.mtime, `files.${f.role}.mtime`), f.sha256);
  out.push(
    stmt(
      `INSERT INTO job_files (job_id, attempt, role, file_name, rel_path, full_path, file_size, modification_time, sha256_sum) VALUES ${placeholders(files.length, 9)}`,
      values,
    ),
  );
  return out;
}

/**
 * One hdf_files row per job (unique job_id; pdr_run deduplicated globally by the HDF4 hash, defect 21)
 * with name, stored path, directory, mtime, sha256 and size of each HDF file that was stored; a file
 * that was not stored leaves its columns NULL. No row when none of the three was stored.
 */
function hdfFilesStmt(
  jobId: number,
  pdrExeId: number | null,
  parameterId: number | null,
  modelNameId: number | null,
  files: StoredFileInfo[],
): Stmt | null {
  const byRole = new Map(files.map((f) => [f.role, f]));
  if (!HDF_ROLES.some(([role]) => byRole.has(role))) return null;
  const cols = ['job_id', 'pdrexe_id', 'parameter_id', 'model_name_id'];
  const values: SqlValue[] = [jobId, pdrExeId, parameterId, modelNameId];
  for (const [role, suffix] of HDF_ROLES) {
    const f = byRole.get(role);
    cols.push(`file_name${suffix}`, `full_path${suffix}`, `path${suffix}`, `modification_time${suffix}`, `sha256_sum${suffix}`, `file_size${suffix}`);
    values.push(
      f?.fileName ?? null,
      f?.fullPath ?? null,
      f ? dirname(f.fullPath) : null,
      f ? toDbTime(f.mtime, `files.${role}.mtime`) : null,
      f?.sha256 ?? null,
      f?.size ?? null,
    );
  }
  const update = cols.filter((c) => c !== 'job_id').map((c) => `${c} = VALUES(${c})`);
  return stmt(`INSERT INTO hdf_files (${cols.join(', ')}) VALUES ${placeholders(1, cols.length)} ON DUPLICATE KEY UPDATE ${update.join(', ')}`, values);
}
