import { ExecutableInfo, RpcReply, RpcRequestParsed, StoredFileInfo } from '@pdr/contracts';
import {
  Em,
  ident,
  intervalToDbTime,
  JobFileColumn,
  one,
  placeholders,
  run,
  setStatusSql,
  SqlValue,
  toDbTime,
  transaction,
  upsertExecutable,
} from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * pdr_run's job columns per stored file role (SPEC §5.11; `output_hdf5_file`, never written by
 * pdr_run, now holds the HDF5 structure file). Values are the stored full paths.
 */
export const ROLE_COLUMNS: Readonly<Record<string, readonly JobFileColumn[]>> = {
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
const HDF_ROLES: ReadonlyArray<[string, string]> = [
  ['hdf4', ''],
  ['hdf5_struct', '_hdf5_s'],
  ['hdf5_chem', '_hdf5_c'],
];

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '') : p.slice(0, i);
}

/**
 * Use case "finish": compare-and-set running(attempt) → the outcome, in one transaction with
 * everything the outcome carries: pdr_run's times (execution_time as an Interval DATETIME, always
 * written) and execution_ms, the reason, the job's file columns from the stored files' roles, one
 * hdf_files row per job (the HDF files that exist), a json_files row for the stored pdr_config json,
 * the executables (kosmatau_executables + grid_executables; the pdr one on the job), the user and
 * chemistry of the job's grid, job_files, and the attempt closed. A second report of the same
 * outcome, or a report from an attempt that lost the job → applied:false (not an error).
 */
export async function finishJob(em: Em, req: RpcRequestParsed<'jobFinish'>): Promise<{ reply: RpcReply<'jobFinish'>; changed: number[] }> {
  const files = [...new Map(req.files.map((f) => [f.role, f])).values()];
  const startedAt = toDbTime(req.startedAt, 'startedAt');
  const finishedAt = toDbTime(req.finishedAt, 'finishedAt');
  const fileSets: string[] = [];
  const fileValues: SqlValue[] = [];
  for (const f of files) {
    for (const col of ROLE_COLUMNS[f.role] ?? []) {
      fileSets.push(`, ${ident(col)} = ?`);
      fileValues.push(f.fullPath);
    }
  }
  return transaction(em, async (tem) => {
    const cas = await run(
      tem,
      `UPDATE pdr_model_jobs SET ${setStatusSql(req.status)}, version = version + 1, heartbeat_at = NULL, reason = ?,
         time_of_start = ?, time_of_finish = ?, execution_time = ?, execution_ms = ?${fileSets.join('')}
       WHERE id = ? AND attempt = ? AND status = 'running'`,
      [req.reason, startedAt, finishedAt, intervalToDbTime(req.executionMs), req.executionMs, ...fileValues, req.jobId, req.attempt],
    );
    if (cas.affectedRows !== 1) {
      const job = await loadJobStateOrFail(tem, req.jobId);
      return { reply: { applied: false, status: job.status }, changed: [] };
    }
    const job = await one<{ grid_id: number | null; kosmatau_parameters_id: number | null; model_name_id: number | null }>(
      tem,
      'SELECT grid_id, kosmatau_parameters_id, model_name_id FROM pdr_model_jobs WHERE id = ?',
      [req.jobId],
    );
    if (job!.grid_id !== null) {
      await run(
        tem,
        `UPDATE pdr_model_jobs j JOIN grids g ON g.id = j.grid_id
         SET j.user_id = COALESCE(g.user_id, j.user_id), j.chemical_database_id = COALESCE(g.chemical_database_id, j.chemical_database_id)
         WHERE j.id = ?`,
        [req.jobId],
      );
    }
    const pdrExeId = await recordExecutables(tem, req.jobId, job!.grid_id, req.executables);
    await recordJobFiles(tem, req.jobId, req.attempt, files);
    await recordHdfFiles(tem, req.jobId, pdrExeId, job!.kosmatau_parameters_id, job!.model_name_id, files);
    const json = files.find((f) => f.role === 'json');
    if (json) {
      await run(
        tem,
        `INSERT INTO json_files (name, path, sha256_sum, created_at, job_id) VALUES (?, ?, ?, NOW(3), ?)
         ON DUPLICATE KEY UPDATE path = VALUES(path), sha256_sum = VALUES(sha256_sum), created_at = VALUES(created_at)`,
        [json.fileName, json.fullPath, json.sha256, req.jobId],
      );
    }
    await run(tem, `UPDATE job_attempts SET status = ?, reason = ?, exit_codes = ?, finished_at = ? WHERE job_id = ? AND attempt = ?`, [
      req.status,
      req.reason,
      JSON.stringify(req.exitCodes),
      finishedAt,
      req.jobId,
      req.attempt,
    ]);
    return { reply: { applied: true, status: req.status }, changed: [req.jobId] };
  });
}

/** kosmatau_executables (race-free get-or-create) + grid_executables; the pdr executable's id goes on the job. */
async function recordExecutables(em: Em, jobId: number, gridId: number | null, executables: ExecutableInfo[]): Promise<number | null> {
  let pdrExeId: number | null = null;
  for (const x of executables) {
    const comment = x.reasons.length ? x.reasons.join('; ').slice(0, 250) : null;
    const id = await upsertExecutable(em, {
      fileName: x.fileName,
      fullPath: x.fullPath,
      sha256: x.sha256,
      revision: x.revision,
      compilationDate: x.compilationDate,
      comment,
    });
    if (gridId !== null) {
      await run(em, 'INSERT INTO grid_executables (grid_id, executable_id, role) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE role = role', [gridId, id, x.role]);
    }
    if (x.role === 'pdr') pdrExeId = id;
  }
  if (pdrExeId !== null) await run(em, 'UPDATE pdr_model_jobs SET kosmatau_executable_id = ? WHERE id = ?', [pdrExeId, jobId]);
  return pdrExeId;
}

/** The job's stored files: the latest finished attempt's set replaces the earlier one. */
async function recordJobFiles(em: Em, jobId: number, attempt: number, files: StoredFileInfo[]): Promise<void> {
  await run(em, 'DELETE FROM job_files WHERE job_id = ?', [jobId]);
  if (!files.length) return;
  const values: SqlValue[] = [];
  for (const f of files) values.push(jobId, attempt, f.role, f.fileName, f.relPath, f.fullPath, f.size, toDbTime(f.mtime, `files.${f.role}.mtime`), f.sha256);
  await run(
    em,
    `INSERT INTO job_files (job_id, attempt, role, file_name, rel_path, full_path, file_size, modification_time, sha256_sum) VALUES ${placeholders(files.length, 9)}`,
    values,
  );
}

/**
 * One hdf_files row per job (unique job_id; pdr_run deduplicated globally by the HDF4 hash, defect 21)
 * with name, stored path, directory, mtime, sha256 and size of each HDF file that was stored; a file
 * that was not stored leaves its columns NULL. No row when none of the three was stored.
 */
async function recordHdfFiles(
  em: Em,
  jobId: number,
  pdrExeId: number | null,
  parameterId: number | null,
  modelNameId: number | null,
  files: StoredFileInfo[],
): Promise<void> {
  const byRole = new Map(files.map((f) => [f.role, f]));
  if (!HDF_ROLES.some(([role]) => byRole.has(role))) return;
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
  await run(em, `INSERT INTO hdf_files (${cols.join(', ')}) VALUES ${placeholders(1, cols.length)} ON DUPLICATE KEY UPDATE ${update.join(', ')}`, values);
}
