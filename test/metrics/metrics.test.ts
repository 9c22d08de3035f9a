/**
 * Prometheus metrics of every service, scraped during and after a grid run through the real processes
 * (state, planner, two runners on the mock KOSMA-tau), and checked against the database: finished and
 * problem jobs, bytes stored, open connections of the pool. Each metric the test names must have been
 * non-zero at some point: a metric that is always zero measures nothing.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse as parseYaml } from 'yaml';
import { ProcStack, startProcStack } from '../support/proc-stack';
import { REPO, runCli, stopAll, waitFor } from '../support/processes';

jest.setTimeout(180_000);

let s: ProcStack;

beforeAll(async () => {
  s = await startProcStack({
    prefix: 'm',
    runners: 2,
    concurrency: 2,
    env: { PDR_METRICS_PORT: '0', PDR_METRICS_HOST: '127.0.0.1', MOCK_PDR_SECONDS: '1', MOCK_PDR_FAIL_MATCH: '_50_-10_20_' },
  });
});
afterAll(async () => {
  await s?.close();
  await stopAll(1_000);
});

type Samples = { name: string; labels: Record<string, string>; value: number }[];

/** Prometheus text format → samples (comments skipped). */
function parse(text: string): Samples {
  const out: Samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function metricsPort(output: string, service: string): number {
  const m = /metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(output);
  if (!m) throw new Error(`${service} did not say where its metrics are:\n${output.slice(-2000)}`);
  return Number(m[1]);
}

async function scrape(port: number): Promise<Samples> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  return parse(await r.text());
}

/** Sum of the samples of `name` whose labels include `labels`. */
function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

it('every service serves /metrics; the figures agree with the database', async () => {
  const ports = {
    state: metricsPort(s.state.output(), 'state'),
    planner: metricsPort(s.planner.output(), 'planner'),
    runners: s.runners.map((r, i) => metricsPort(r.output(), `runner ${i}`)),
  };
  const seen = new Map<string, number>(); // highest value of each metric during the test
  const note = (samples: Samples) => {
    for (const x of samples) {
      const key = x.name.replace(/_(bucket|sum|count)$/, '');
      seen.set(key, Math.max(seen.get(key) ?? 0, x.value));
    }
  };
  const scrapeAll = async () => {
    const st = await scrape(ports.state);
    const pl = await scrape(ports.planner);
    const rs = await Promise.all(ports.runners.map(scrape));
    [st, pl, ...rs].forEach(note);
    return { st, pl, rs };
  };

  const sub = await s.client.request('gridSubmit', { v: 1, request: s.request({ modelName: 'metrics_model' }) });
  // during the grid: slots busy, job events in flight
  await waitFor(
    'runner slots busy and job events in flight during the grid',
    async () => {
      const { st, rs } = await scrapeAll();
      return rs.some((r) => value(r, 'pdr_runner_slots', { state: 'busy' }) > 0) && value(st, 'pdr_jetstream_job_consumer_in_flight') > 0;
    },
    60_000,
    100,
  );
  const grid = await s.waitDone(sub.gridId);
  expect(grid.counts).toMatchObject({ finished: 5, problem: 1 });

  const { st, pl, rs } = await scrapeAll();
  const db = async (q: string) => Number(Object.values((await s.sql<Record<string, unknown>>(q))[0])[0]);
  const count = (status: string) => db(`SELECT COUNT(*) FROM pdr_model_jobs WHERE status = '${status}'`);

  // state: transitions and request latency per subject against the jobs table
  expect(value(st, 'pdr_state_job_transitions_total', { status: 'finished' })).toBe(await count('finished'));
  expect(value(st, 'pdr_state_job_transitions_total', { status: 'problem' })).toBe(await count('problem'));
  expect(value(st, 'pdr_request_duration_seconds_count', { subject: 'jobFinish', outcome: 'ok' })).toBeGreaterThanOrEqual(6);
  expect(value(st, 'pdr_request_duration_seconds_count', { subject: 'jobClaim', outcome: 'ok' })).toBeGreaterThanOrEqual(6);
  expect(value(st, 'pdr_state_db_pool_acquire_wait_seconds_count')).toBeGreaterThan(0);
  expect(value(st, 'pdr_state_reconciler_sweeps_total', { result: 'ok' })).toBeGreaterThan(0);
  // the queue drained
  expect(value(st, 'pdr_jetstream_job_consumer_pending')).toBe(0);
  await waitFor('no job event in flight', async () => value(await scrape(ports.state), 'pdr_jetstream_job_consumer_in_flight') === 0, 20_000);

  // connections in use show while requests run: a burst of queries, scraped meanwhile
  await waitFor(
    'pool connections in use during a burst of queries',
    async () => {
      const burst = Promise.all(Array.from({ length: 40 }, () => s.client.request('jobsQuery', { v: 1, gridId: sub.gridId, limit: 1000, withFiles: true, withParameters: true })));
      const m = await scrape(ports.state);
      note(m);
      await burst;
      return value(m, 'pdr_state_db_pool_in_use') > 0;
    },
    30_000,
    0,
  );

  // pool: its size as `pdr health` reports it, and the connections it holds open are the database's
  const health = await runCli(['health', '--json', '--wait', '1500'], { env: s.env });
  expect(health.code).toBe(0);
  const report = JSON.parse(health.stdout) as { instances: { service: string; detail: Record<string, unknown> }[] };
  const statePool = report.instances.find((i) => i.service === 'state')!.detail.pool as { size: number; used: number; free: number };
  expect(value(st, 'pdr_state_db_pool_size')).toBe(statePool.size);
  expect(statePool.size).toBeGreaterThan(0);
  const runnerSlots = report.instances.filter((i) => i.service === 'runner').map((i) => i.detail.slots);
  expect(runnerSlots).toEqual([2, 2]);
  const table = await runCli(['health', '--wait', '1500'], { env: s.env });
  expect(table.stdout).toMatch(new RegExp(`^state .*pool=\\d+/${statePool.size}-in-use,\\d+-waiting`, 'm'));
  expect(table.stdout.match(/^runner .*slots=2 busy=\d+/gm)).toHaveLength(2);
  await waitFor(
    "the pool's open connections = the database's connections of the state service",
    async () => {
      // the test's own connection (s.sql) is one more on this database
      const open = (await db(`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '${s.db.database}'`)) - 1;
      const m = await scrape(ports.state);
      return value(m, 'pdr_state_db_pool_in_use') + value(m, 'pdr_state_db_pool_free') === open && open > 0;
    },
    20_000,
    200,
  );

  // runners: outcomes, executables' exit codes and bytes stored against the database
  const sumR = (name: string, labels?: Record<string, string>) => rs.reduce((a, r) => a + value(r, name, labels), 0);
  expect(sumR('pdr_runner_jobs_total', { status: 'finished' })).toBe(await count('finished'));
  expect(sumR('pdr_runner_jobs_total', { status: 'problem' })).toBe(await count('problem'));
  expect(sumR('pdr_runner_job_duration_seconds_count')).toBe(6);
  expect(sumR('pdr_runner_exit_codes_total', { program: 'pdr', code: '0' })).toBe(5);
  expect(sumR('pdr_runner_exit_codes_total', { program: 'pdr', code: '1' })).toBe(1);
  expect(sumR('pdr_runner_step_duration_seconds_count', { step: 'onion' })).toBe(5); // one species (CO) per finished point
  expect(sumR('pdr_runner_storage_bytes_total', { backend: 'local' })).toBe(await db('SELECT COALESCE(SUM(file_size), 0) FROM job_files'));
  expect(sumR('pdr_runner_storage_files_total', { backend: 'local' })).toBe(await db('SELECT COUNT(*) FROM job_files'));
  expect(sumR('pdr_runner_storage_duration_seconds_count', { backend: 'local' })).toBeGreaterThan(0);
  expect(sumR('pdr_runner_slots', { state: 'free' })).toBe(4);

  // planner: points planned and job events published
  expect(value(pl, 'pdr_planner_points_planned_total', { result: 'created' })).toBe(6);
  expect(value(pl, 'pdr_planner_points_planned_total', { result: 'queued' })).toBe(6);
  expect(value(pl, 'pdr_planner_job_events_published_total', { result: 'published' })).toBe(6);
  expect(value(pl, 'pdr_planner_publish_duration_seconds_count')).toBeGreaterThan(0);
  expect(value(pl, 'pdr_request_duration_seconds_count', { subject: 'gridSubmit', outcome: 'ok' })).toBe(1);

  // no job or grid id in any label; every service labelled
  for (const x of [...st, ...pl, ...rs.flat()]) {
    expect(Object.keys(x.labels).filter((k) => /job|grid/i.test(k))).toEqual([]);
    expect(x.labels.service).toMatch(/^(state|planner|runner)$/);
  }
  // each metric this project defines moved at some point (the always-zero ones measure nothing)
  const ours = [...seen.keys()].filter((k) => k.startsWith('pdr_') && !/^pdr_(process|nodejs)_/.test(k));
  // only what needs a fault or an overload to move may have stayed at zero in this healthy run
  const needFault = [
    'pdr_runner_storage_errors_total',
    'pdr_state_db_connection_errors_total',
    'pdr_state_db_pool_pending_acquires',
    'pdr_state_db_pool_pending_creates',
    'pdr_state_reconciler_actions_total',
    'pdr_jetstream_job_consumer_redelivered',
  ];
  expect(ours.length).toBeGreaterThan(25);
  expect(ours.filter((k) => !seen.get(k) && !needFault.includes(k))).toEqual([]);

  // deploy/monitoring: valid files whose expressions use only metrics the services export
  const dir = join(REPO, 'deploy/monitoring');
  const rules = parseYaml(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const alerts = rules.groups.flatMap((g) => g.rules);
  expect(alerts.map((r) => r.alert)).toEqual(expect.arrayContaining(['PdrStateDbPoolExhausted', 'PdrJobQueueNotDraining', 'PdrNoRunnerHeartbeats', 'PdrJobFailureRate']));
  const scrapeConfig = parseYaml(readFileSync(join(dir, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[]; rule_files: string[] };
  expect(scrapeConfig.scrape_configs.map((c) => c.job_name)).toEqual(['pdr-state', 'pdr-planner', 'pdr-runner', 'pdr-web']);
  expect(scrapeConfig.rule_files).toEqual(['alerts.yml']);
  const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const exprs = [...alerts.map((r) => r.expr), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))];
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bpdr_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))));
  expect([...used].filter((name) => !seen.has(name))).toEqual([]);
  expect(used.size).toBeGreaterThan(15);
});

it('a bad --metrics-port is a one-line usage error (exit 2)', async () => {
  const { spawnSync } = await import('child_process');
  const { SERVICE_MAIN } = await import('../support/processes');
  const p = spawnSync(process.execPath, [SERVICE_MAIN.planner, '--metrics-port', 'x'], { encoding: 'utf8', env: { ...process.env, PDR_NATS_PREFIX: s.ns } });
  expect(p.status).toBe(2);
  expect(p.stderr.trim()).toBe('planner: error: --metrics-port "x" must be a port number 0..65535 (0: any free port)');
  const st = spawnSync(process.execPath, [SERVICE_MAIN.runner], { encoding: 'utf8', env: { ...process.env, PDR_METRICS_PORT: '99999' } });
  expect(st.status).toBe(2);
  expect(st.stderr.trim()).toBe('runner: error: PDR_METRICS_PORT "99999" must be a port number 0..65535 (0: any free port)');
});
