/** estimateJobs on the real MariaDB (a database of its own): timeouts until enough jobs finished, then the recent sample's longest. */
import { raw } from '@mikro-orm/core';
import { ESTIMATE } from '@pdr/contracts';
import { PdrModelJob } from '@pdr/persistence';
import { useUseCaseDb } from '../../../../test/support/use-case-db';
import { estimateJobs } from './estimate-jobs';

const t = useUseCaseDb();

describe('estimateJobs', () => {
  it('a grid with pending jobs and nothing finished: PDR timeout + onion timeout per species', async () => {
    const { gridId } = await t.grid(2);
    const res = await estimateJobs(t.em(), { v: 1, gridIds: null });
    expect(res.grids.find((g) => g.gridId === gridId)).toEqual({ gridId, expectedMs: 120_000, basis: 'timeouts', finished: 0 });
  });

  it('measured: the longest of the SAMPLE_JOBS most recently started finished jobs, with the margin', async () => {
    const n = ESTIMATE.SAMPLE_JOBS + 1;
    const { gridId, jobIds } = await t.grid(n, 'finished');
    const em = t.em();
    // job i started i minutes ago and ran 1000 + i ms: the oldest (longest) one is outside the sample
    for (const [i, id] of jobIds.entries()) {
      await em.nativeUpdate(PdrModelJob, { id }, { time_of_start: raw(`NOW(3) - INTERVAL ${i} MINUTE`), execution_ms: 1000 + i });
    }
    const res = await estimateJobs(t.em(), { v: 1, gridIds: [gridId] });
    expect(res.grids).toEqual([{ gridId, expectedMs: Math.ceil((1000 + n - 2) * ESTIMATE.MEASURED_MARGIN), basis: 'measured', finished: ESTIMATE.SAMPLE_JOBS }]);
    expect((await estimateJobs(t.em(), { v: 1, gridIds: null })).grids.some((g) => g.gridId === gridId)).toBe(false);
  });
});
