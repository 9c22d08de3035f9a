import { ContractError, JobStepInfo, RpcReply, RpcRequestParsed } from '@pdr/contracts';
import { countsOf, Em, packetTransaction, placeholders, run, SqlValue, Stmt, stmt, toDbTime } from '@pdr/persistence';
import { loadJobStateOrFail } from './load-job';

/**
 * Use case "step": lines of an attempt's history (job_steps), in the order the runner sent them, each
 * with the runner's time of the step. Recorded for any attempt that was claimed (history is kept even
 * after the attempt lost the job); steps of the owning attempt also count as a heartbeat. An attempt
 * that was never claimed → CONFLICT, nothing recorded.
 *
 * One packet (packetTransaction: BEGIN, the INSERT ... SELECT of all steps conditional on the attempt —
 * ORDER BY keeps their order in the auto-increment ids —, the heartbeat, conditional on steps having been
 * recorded and on the attempt still owning the job, COMMIT): one round trip per report instead of two, and
 * no ORM statement on a path every job takes. The insert stays SQL: the QueryBuilder has no INSERT ...
 * SELECT from a list of values, and check-then-insertMany would be another statement per report and no
 * longer one atomic condition.
 */
export async function recordSteps(em: Em, req: RpcRequestParsed<'jobStep'>): Promise<RpcReply<'jobStep'>> {
  const values: SqlValue[] = [];
  const rows = req.steps.map((s, i) => {
    values.push(i, s.step, JSON.stringify(s.detail), toDbTime(s.at, `steps[${i}].at`));
    return i === 0 ? 'SELECT ? AS n, ? AS step, ? AS detail, ? AS at' : 'SELECT ?, ?, ?, ?';
  });
  const [ins] = await packetTransaction(em, (tx) =>
    tx.send(
      [
        stmt(
          `INSERT INTO job_steps (job_id, attempt, step, detail, at)
           SELECT a.job_id, a.attempt, s.step, s.detail, s.at
           FROM job_attempts a JOIN (${rows.join(' UNION ALL ')}) s
           WHERE a.job_id = ? AND a.attempt = ?
           ORDER BY s.n`,
          [...values, req.jobId, req.attempt],
        ),
        stmt('SET @pdr_steps = ROW_COUNT()'),
        stmt(`UPDATE pdr_model_jobs SET heartbeat_at = NOW(3) WHERE id = ? AND attempt = ? AND status = 'running' AND @pdr_steps > 0`, [req.jobId, req.attempt]),
      ],
      { commit: true },
    ),
  );
  if (countsOf(ins).affectedRows === 0) {
    await loadJobStateOrFail(em, req.jobId); // NOT_FOUND for an unknown job
    throw new ContractError('CONFLICT', `attempt ${req.attempt} of job ${req.jobId} was never claimed`);
  }
  return { ok: true };
}

/**
 * Steps of an attempt known to exist (the caller holds its claim), in order; null for an empty list.
 * Part of finish's packet: one multi-row INSERT as SQL (em.insertMany costs 2× the CPU, see finish-job.ts).
 */
export function insertStepsStmt(jobId: number, attempt: number, steps: readonly JobStepInfo[]): Stmt | null {
  if (!steps.length) return null;
  const values: SqlValue[] = [];
  steps.forEach((s, i) => values.push(jobId, attempt, s.step, JSON.stringify(s.detail), toDbTime(s.at, `steps[${i}].at`)));
  return stmt(`INSERT INTO job_steps (job_id, attempt, step, detail, at) VALUES ${placeholders(steps.length, 5)}`, values);
}

/**
 * Steps of a claimed attempt, skipping any already recorded with the same name and time (a repeated
 * report after a lost answer), in order.
 */
export async function insertStepsOnce(em: Em, jobId: number, attempt: number, steps: readonly JobStepInfo[]): Promise<void> {
  if (!steps.length) return;
  const values: SqlValue[] = [];
  const rows = steps.map((s, i) => {
    values.push(i, s.step, JSON.stringify(s.detail), toDbTime(s.at, `steps[${i}].at`));
    return i === 0 ? 'SELECT ? AS n, ? AS step, ? AS detail, ? AS at' : 'SELECT ?, ?, ?, ?';
  });
  await run(
    em,
    `INSERT INTO job_steps (job_id, attempt, step, detail, at)
     SELECT ?, ?, s.step, s.detail, s.at FROM (${rows.join(' UNION ALL ')}) s
     WHERE NOT EXISTS (SELECT 1 FROM job_steps x WHERE x.job_id = ? AND x.attempt = ? AND x.step = s.step AND x.at = s.at)
     ORDER BY s.n`,
    [jobId, attempt, ...values, jobId, attempt],
  );
}
