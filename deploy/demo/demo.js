#!/usr/bin/env node
'use strict';
/**
 * One-command demo (`npm run demo`): builds, checks that MariaDB and NATS (with JetStream) are there,
 * starts the stack with `pdr up` (state, planner, 2 runners with the mock KOSMA-tau), runs the demo grid
 * of deploy/demo/demo.yaml (3 densities × 2 FUV fields, 2 onion species) with the live progress bar,
 * prints the summary and where the outputs are, stops the stack. Exit 0 only when every point finished.
 *
 * Everything runs from the repository root (the demo config's relative paths are resolved against the
 * caller's working directory). Outputs go to .pdr-demo/ (git-ignored); services log to .pdr-demo/stack.log.
 *
 * Environment: PDR_NATS_URL (default nats://127.0.0.1:4222); PDR_DB_HOST, PDR_DB_PORT, PDR_DB_USERNAME,
 * PDR_DB_PASSWORD override the demo config's database section (root@127.0.0.1:3306); PDR_NATS_PREFIX and
 * PDR_DB_DATABASE choose the namespace and database (default: pdrdemo<hash> and pdr_demo_<hash> of this
 * checkout's path).
 * Options: --no-build (skip npm run build), --keep (reuse the model name demo_grid: points already done
 * are not run again).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
const CONFIG = path.join(REPO, 'deploy', 'demo', 'demo.yaml');
const CLI = path.join(REPO, 'apps', 'cli', 'dist', 'main.js');
const DEMO_DIR = path.join(REPO, '.pdr-demo');
const STORAGE = path.join(DEMO_DIR, 'storage');
const WORK = path.join(DEMO_DIR, 'work');
const LOG = path.join(DEMO_DIR, 'stack.log');
/**
 * Its own NATS namespace and database: PDR_NATS_PREFIX and PDR_DB_DATABASE when set; otherwise names
 * derived from this checkout's path, so two checkouts' demos on one NATS server and one MariaDB never
 * mix (and one checkout's demo finds its own earlier points again with --keep).
 */
const CHECKOUT = require('node:crypto').createHash('sha256').update(REPO).digest('hex').slice(0, 8);
const NAMESPACE = process.env.PDR_NATS_PREFIX || `pdrdemo${CHECKOUT}`;
const DATABASE = process.env.PDR_DB_DATABASE || `pdr_demo_${CHECKOUT}`;

const args = process.argv.slice(2);
for (const a of args) {
  if (!['--no-build', '--keep', '--help', '-h'].includes(a)) fail(`unknown option ${a} (options: --no-build, --keep)`, 2);
}
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: npm run demo [-- --no-build] [-- --keep]\n');
  process.exit(0);
}

function say(line) {
  process.stdout.write(`demo: ${line}\n`);
}

function fail(line, code = 1) {
  process.stderr.write(`demo: error: ${line}\n`);
  process.exit(code);
}

function run(cmd, argv, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: REPO, stdio: 'inherit', ...opts });
    child.on('error', (err) => resolve({ code: null, error: err }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

function reachable(host, port, ms = 2000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

async function build() {
  say('building (npm run build)…');
  const npmCli = process.env.npm_execpath;
  const r = npmCli && /npm-cli\.js$/.test(npmCli) ? await run(process.execPath, [npmCli, 'run', 'build']) : await run('npm', ['run', 'build']);
  if (r.error) fail(`cannot run npm (${r.error.message}); run npm run build yourself, then npm run demo -- --no-build`);
  if (r.code !== 0) fail('npm run build failed (see above)');
}

async function checkMariaDb() {
  const host = process.env.PDR_DB_HOST || '127.0.0.1';
  const port = Number(process.env.PDR_DB_PORT || 3306);
  if (await reachable(host, port)) return;
  fail(
    [
      `MariaDB is not reachable at ${host}:${port}. Install and start it, then run the demo again:`,
      '    sudo apt-get install -y mariadb-server && sudo service mariadb start',
      `  The demo uses database ${DATABASE} as root@127.0.0.1 without a password (created on first start);`,
      '  for another server or user set PDR_DB_HOST, PDR_DB_PORT, PDR_DB_USERNAME, PDR_DB_PASSWORD.',
    ].join('\n'),
    3,
  );
}

async function checkNats() {
  const url = process.env.PDR_NATS_URL || 'nats://127.0.0.1:4222';
  const howTo = [
    'Install and start nats-server with JetStream, then run the demo again:',
    '    sudo apt-get install -y nats-server && nats-server -js &',
    '  (or set PDR_NATS_URL to a server with JetStream enabled)',
  ].join('\n');
  let u;
  try {
    u = new URL(url);
  } catch {
    fail(`PDR_NATS_URL "${url}" is not a URL such as nats://127.0.0.1:4222`, 2);
  }
  if (!(await reachable(u.hostname, Number(u.port || 4222)))) fail(`NATS is not reachable at ${url}. ${howTo}`, 3);
  // JetStream must be enabled (the job queue lives there)
  const { connect } = require(require.resolve('nats', { paths: [REPO] }));
  let nc;
  try {
    nc = await connect({ servers: url, maxReconnectAttempts: 0 });
    await (await nc.jetstreamManager()).getAccountInfo();
  } catch (err) {
    fail(`NATS at ${url} answers but JetStream is not available (${err.message}). ${howTo}`, 3);
  } finally {
    if (nc) await nc.close();
  }
}

function timestamp() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

/** Starts `pdr up`, its output into the log file; resolves once it says "stack is up". */
function startStack(env) {
  const log = fs.openSync(LOG, 'a');
  fs.writeSync(log, `\n==== npm run demo, ${new Date().toISOString()} ====\n`);
  const up = spawn(process.execPath, [CLI, 'up', '--config', CONFIG, '--runners', '2', '--concurrency', '2', '--work-dir', WORK], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => up.on('exit', (code, signal) => resolve({ code, signal })));
  let text = '';
  const ready = new Promise((resolve, reject) => {
    const onData = (d) => {
      fs.writeSync(log, d);
      if (!text.includes('stack is up')) {
        text += d.toString();
        if (text.includes('stack is up')) resolve();
      }
    };
    up.stdout.on('data', onData);
    up.stderr.on('data', onData);
    exited.then(({ code }) => reject(new Error(`pdr up exited with code ${code} before the stack was up`)));
  });
  return { up, ready, exited, tail: () => text.split('\n').slice(-15).join('\n') };
}

async function stopStack(stack) {
  if (stack.up.exitCode !== null || stack.up.signalCode !== null) return stack.exited;
  say('stopping the stack…');
  stack.up.kill('SIGTERM');
  const timer = setTimeout(() => stack.up.kill('SIGKILL'), 60_000);
  const r = await stack.exited;
  clearTimeout(timer);
  return r;
}

async function main() {
  process.chdir(REPO);
  say(`NATS namespace ${NAMESPACE}, database ${DATABASE} (set PDR_NATS_PREFIX / PDR_DB_DATABASE to choose)`);
  if (!args.includes('--no-build')) await build();
  if (!fs.existsSync(CLI)) fail(`${CLI} is missing: run npm run build`);
  await checkMariaDb();
  await checkNats();
  fs.mkdirSync(STORAGE, { recursive: true });
  fs.mkdirSync(WORK, { recursive: true });

  const env = { ...process.env, PDR_NATS_PREFIX: NAMESPACE, PDR_DB_DATABASE: DATABASE };
  const modelName = args.includes('--keep') ? 'demo_grid' : `demo_${timestamp()}`;
  say(`starting the stack (state, planner, 2 runners × 2 slots; logs in ${path.relative(REPO, LOG)})…`);
  const stack = startStack(env);
  let interrupted = false;
  const onSignal = () => {
    interrupted = true; // pdr up and pdr run get the same Ctrl-C from the terminal and stop by themselves
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', () => {
    interrupted = true;
    stack.up.kill('SIGTERM');
  });
  try {
    await stack.ready;
  } catch (err) {
    process.stderr.write(`${stack.tail()}\n`);
    fail(`${err.message}; see ${LOG}`);
  }
  say('stack is up');

  say(`running the demo grid: pdr run --config deploy/demo/demo.yaml --model-name ${modelName}`);
  const r = await run(process.execPath, [CLI, 'run', '--config', CONFIG, '--model-name', modelName], { env });
  const runCode = r.code ?? 1;

  const stopped = await stopStack(stack);
  if (interrupted) fail('interrupted', 130);
  const outDir = path.join(STORAGE, modelName);
  const files = listFiles(outDir);
  say(`outputs: ${files.length} file(s) in ${path.relative(REPO, outDir)}/ (pdr_run's storage layout)`);
  const perDir = new Map();
  for (const f of files) {
    const d = path.relative(outDir, path.dirname(f));
    perDir.set(d, (perDir.get(d) || 0) + 1);
  }
  for (const [d, n] of perDir) process.stdout.write(`  ${d}/: ${n} file(s)\n`);
  const firstJob = files.map((f) => /^pdr(.+)\.hdf$/.exec(path.basename(f))).find(Boolean);
  if (firstJob) {
    say(`e.g. the files of job ${firstJob[1]}:`);
    for (const f of files.filter((x) => path.basename(x).includes(firstJob[1]))) process.stdout.write(`  ${path.relative(REPO, f)}\n`);
  }
  say(`service logs: ${LOG}`);
  if (stopped.code !== 0) fail(`the stack did not stop cleanly (pdr up exit ${stopped.code ?? stopped.signal}); see ${LOG}`);
  if (runCode !== 0) fail(`pdr run exited with ${runCode}: not every point finished (see the summary above)`, runCode === 3 ? 3 : 1);
  say('done: every point finished');
}

main().catch((err) => fail(err && err.message ? err.message : String(err)));
