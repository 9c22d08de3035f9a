import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger, jsonLineToText } from './logger';
import { clearRegisteredSecrets, registerSecret } from './mask';
import { NestPinoLogger } from './nest-logger';

const CANARY = 'Canary-PW-91xq';

function capture(): { lines: string[]; write(s: string): void; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    write(s: string) {
      lines.push(s);
    },
    text() {
      return lines.join('');
    },
  };
}

afterEach(() => clearRegisteredSecrets());

describe('createLogger', () => {
  it('writes JSON lines with service, level label, time and msg', () => {
    const out = capture();
    const log = createLogger('state', { destination: out, env: {} });
    log.info({ jobId: 7 }, 'hello');
    log.debug('not shown at default level info');
    expect(out.lines).toHaveLength(1);
    const rec = JSON.parse(out.lines[0]);
    expect(rec).toMatchObject({ service: 'state', level: 'info', msg: 'hello', jobId: 7 });
    expect(typeof rec.time).toBe('string');
  });

  it('takes the level from PDR_LOG_LEVEL and rejects a bad one naming the variable', () => {
    const out = capture();
    const log = createLogger('runner', { destination: out, env: { PDR_LOG_LEVEL: 'debug' } });
    log.debug('visible');
    expect(out.lines).toHaveLength(1);
    expect(() => createLogger('runner', { destination: out, env: { PDR_LOG_LEVEL: 'loud' } })).toThrow(
      /PDR_LOG_LEVEL.*'loud'/,
    );
    expect(() => createLogger('runner', { destination: out, env: { PDR_LOG_FORMAT: 'xml' } })).toThrow(
      /PDR_LOG_FORMAT/,
    );
  });

  it('writes single-line text with PDR_LOG_FORMAT=text', () => {
    const out = capture();
    const log = createLogger('planner', { destination: out, env: { PDR_LOG_FORMAT: 'text' } });
    log.warn({ grid: 'g1', note: 'two words' }, 'line one\nline two');
    log.error(new Error('boom'));
    expect(out.lines[0]).toMatch(/^\S+ WARN {2}\[planner\] line one\\nline two grid=g1 note="two words"\n$/);
    expect(out.lines[1].split('\n')).toHaveLength(2); // one line + trailing newline, stack escaped
    expect(out.lines[1]).toContain('[planner] boom err=');
  });

  it('rejects a service name that could escape the log directory', () => {
    expect(() => createLogger('../evil', { destination: capture() })).toThrow(/invalid service name/);
  });

  it('appends JSON lines to <PDR_LOG_DIR>/<service>.log only when the variable is set', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-log-'));
    const logDir = path.join(dir, 'nested', 'logs');
    const log = createLogger('cli', { destination: capture(), env: { PDR_LOG_DIR: logDir, PDR_LOG_FORMAT: 'text' } });
    log.info({ password: CANARY }, 'to file');
    log.flush();
    const content = fs.readFileSync(path.join(logDir, 'cli.log'), 'utf8');
    expect(JSON.parse(content.trim())).toMatchObject({ service: 'cli', msg: 'to file', password: '***' });
    expect(content).not.toContain(CANARY);

    const none = fs.mkdtempSync(path.join(os.tmpdir(), 'pdr-nolog-'));
    const cwd = process.cwd();
    try {
      process.chdir(none);
      createLogger('cli', { destination: capture(), env: {} }).info('x');
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readdirSync(none)).toEqual([]);
  });

  describe('canary password never reaches the output', () => {
    const formats = ['json', 'text'] as const;
    it.each(formats)('format %s', (format) => {
      registerSecret(CANARY);
      const out = capture();
      const log = createLogger('state', { destination: out, env: {}, format, level: 'trace' });
      log.info({ password: CANARY }, 'object key');
      log.info({ db: { connection: { pwd: CANARY } } }, 'nested object');
      log.info({ list: [[{ secret: CANARY }], { note: `free text ${CANARY}` }] }, 'nested arrays');
      log.info({ url: `mysql://root:${CANARY}@db:3306/pdr` }, 'url in object');
      log.info(`url in message mysql://root:${CANARY}@db/pdr`);
      log.info(`message with the password ${CANARY} concatenated`);
      log.info('printf %s and %o', CANARY, { x: CANARY });
      log.error(new Error(`Access denied using password ${CANARY}`));
      log.error({ err: new Error(`wrapped ${CANARY}`, { cause: new Error(CANARY) }) }, 'with cause');
      log.warn({ [CANARY]: 'as a key' }, 'key');
      const child = log.child({ token: CANARY, note: CANARY });
      child.info('child bindings');
      log.trace({ deep: { a: { b: { c: { d: [CANARY] } } } } }, 'deep');
      expect(out.lines.length).toBe(12);
      expect(out.text()).not.toContain(CANARY);
      expect(out.text()).not.toContain(encodeURIComponent(CANARY));
      // masking must not have silenced the lines
      expect(out.text()).toContain('Access denied using password ***');
      expect(out.text()).toContain('mysql://root:***@db');
    });

    it('masks URL passwords even when the secret was never registered', () => {
      const out = capture();
      const log = createLogger('state', { destination: out, env: {} });
      log.info(`dsn mysql://root:${CANARY}@db/pdr`);
      log.error(new Error(`cannot connect to mysql://root:${CANARY}@db/pdr`));
      expect(out.text()).not.toContain(CANARY);
    });
  });
});

describe('jsonLineToText', () => {
  it('passes non-JSON through', () => {
    expect(jsonLineToText('plain\n')).toBe('plain\n');
  });
});

describe('NestPinoLogger', () => {
  it('maps Nest levels and contexts onto the same format', () => {
    const out = capture();
    const log = createLogger('state', { destination: out, env: {}, level: 'trace' });
    const nest = new NestPinoLogger(log);
    nest.log('Mapped route', 'RouterExplorer');
    nest.warn('careful');
    nest.error('failed', 'Error: failed\n    at foo (x.js:1:1)', 'ExceptionHandler');
    nest.error('only stack', 'Error: x\n    at y (z.js:1:1)');
    nest.debug({ a: 1 }, 'Ctx');
    nest.verbose('very');
    nest.fatal(new Error('down'));
    const recs = out.lines.map((l) => JSON.parse(l));
    expect(recs[0]).toMatchObject({ level: 'info', msg: 'Mapped route', context: 'RouterExplorer', service: 'state' });
    expect(recs[1]).toMatchObject({ level: 'warn', msg: 'careful' });
    expect(recs[1].context).toBeUndefined();
    expect(recs[2]).toMatchObject({ level: 'error', msg: 'failed', context: 'ExceptionHandler' });
    expect(recs[2].stack).toContain('at foo');
    expect(recs[3].context).toBeUndefined();
    expect(recs[3].stack).toContain('at y');
    expect(recs[4]).toMatchObject({ level: 'debug', a: 1, context: 'Ctx' });
    expect(recs[5]).toMatchObject({ level: 'trace', msg: 'very' });
    expect(recs[6]).toMatchObject({ level: 'fatal', msg: 'down' });
    expect(recs[6].err.message).toBe('down');
  });

  it('masks secrets in Nest messages and honours setLogLevels', () => {
    registerSecret(CANARY);
    const out = capture();
    const log = createLogger('state', { destination: out, env: {} });
    const nest = new NestPinoLogger(log);
    nest.error(`Access denied (password ${CANARY})`, `Error: x ${CANARY}\n    at y`, 'TypeOrm');
    nest.log({ password: CANARY });
    expect(out.text()).not.toContain(CANARY);
    nest.setLogLevels(['error', 'warn']);
    nest.log('hidden');
    nest.warn('shown');
    expect(out.lines).toHaveLength(3);
  });
});
