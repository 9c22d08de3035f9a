/**
 * Fault: nats-server crashes (SIGKILL) mid-grid and comes back on the same store dir. JetStream keeps
 * the job events and the consumer; services reconnect; requests that failed meanwhile are retried.
 * The grid completes, no point is lost and none runs twice. Uses a nats-server of the test's own —
 * never the machine's shared one. The outage (~1.5 s) lies inside the stale-heartbeat window (6 s here):
 * a NATS blip must not make the reconciler take running jobs away from live runners.
 */
import { expectedFiles, startNatsFaultStack, storedFiles } from '../support/proc-stack';
import { describeWithOwnNats, sleep, waitFor } from '../support/processes';

jest.setTimeout(150_000);

describeWithOwnNats(
  'nats-server restarted mid-grid',
  startNatsFaultStack,
  (f) => {
    it('the grid completes after a crash and restart of nats-server: no point lost, none run twice', async () => {
      const dens = ['30', '35', '40', '45', '50', '55'];
      const { stack: s, nats } = f;
      const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'nats_restart', axes: { dens, chi: ['10', '20'] } }) });
      expect(sub.queued).toBe(12);
      await waitFor('runs in progress', () => s.runs().length >= 3, 30_000);
      await nats.kill();
      const runsAtCrash = s.runs().length;
      expect(runsAtCrash).toBeLessThan(12); // the crash hit the grid in the middle
      await sleep(1_000);
      await nats.restart();

      const grid = await s.waitDone(sub.gridId, 90_000);
      expect(grid.counts).toMatchObject({ finished: 12, failed: 0, problem: 0, cancelled: 0 });
      const jobs = await s.jobs(sub.gridId);
      expect(jobs).toHaveLength(12);
      expect(jobs.map((j) => j.attempt)).toEqual(Array(12).fill(1));
      const runs = s.runs().map((r) => r.jobName).sort();
      expect(runs).toEqual(jobs.map((j) => j.jobName).sort());
      const files = storedFiles(s.storageDir, 'nats_restart');
      expect(files).toEqual(jobs.flatMap((j) => expectedFiles(j.jobName)).sort());
    });
  },
);
