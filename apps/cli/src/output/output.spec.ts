import { StatusCounts, JOB_STATUSES } from '@pdr/contracts';
import { csvRow } from './csv';
import { formatDuration, formatRate } from './format';
import { Io } from './io';
import { progressLine, ProgressView, tally } from './progress';
import { formatTable } from './table';

const counts = (c: Partial<StatusCounts>): StatusCounts => ({ ...(Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts), ...c });

function fakeIo(isTTY: boolean): Io & { text: () => string } {
  let buf = '';
  return {
    out: (t) => void (buf += `${t}\n`),
    err: (t) => void (buf += `ERR ${t}\n`),
    write: (t) => void (buf += t),
    isTTY,
    columns: 140,
    text: () => buf,
  };
}

describe('progress', () => {
  it('tallies statuses into done / problem / failed / running / queued', () => {
    expect(tally(10, counts({ finished: 3, skipped: 1, failed: 1, problem: 1, running: 2, pending: 1, queued: 1 }))).toEqual({
      total: 10,
      done: 4,
      problem: 1,
      failed: 1,
      cancelled: 0,
      running: 2,
      queued: 2,
    });
  });

  it('formats a line with bar, counts, rate and ETA', () => {
    const t = tally(10, counts({ finished: 5, running: 1, queued: 4 }));
    expect(progressLine(t, 0.5, 10_000, 10)).toBe('[#####.....]   5/10  done 5  failed 0  running 1  queued 4  30/min  ETA 10s');
    expect(progressLine(t, 0, null)).toBe(' 5/10  done 5  failed 0  running 1  queued 4  -  ETA -');
  });

  it('TTY: redraws one line in place and ends it with a newline', () => {
    let now = 0;
    const io = fakeIo(true);
    const v = new ProgressView(io, { now: () => now });
    v.update(tally(4, counts({ queued: 4 })));
    now = 2000;
    v.update(tally(4, counts({ finished: 2, queued: 2 })));
    v.finish();
    const text = io.text();
    expect(text.split('\r')).toHaveLength(3);
    expect(text.endsWith('\u001b[K\n')).toBe(true);
    expect(text).toMatch(/\r\[#+\.*\]\s+2\/4 {2}done 2 .* 1\.0\/s {2}ETA 2s/);
    expect(text.split('\n')).toHaveLength(2);
  });

  it('plain: prints on change at most every few seconds, and the final state', () => {
    let now = 0;
    const io = fakeIo(false);
    const v = new ProgressView(io, { now: () => now, plainMinIntervalMs: 3000, plainHeartbeatMs: 60000 });
    v.update(tally(4, counts({ queued: 4 })));
    now = 1000;
    v.update(tally(4, counts({ running: 1, queued: 3 })));
    now = 1500;
    v.update(tally(4, counts({ running: 1, queued: 3 })));
    now = 4000;
    v.update(tally(4, counts({ finished: 1, running: 1, queued: 2 })));
    now = 4500;
    v.update(tally(4, counts({ finished: 4 })));
    v.finish();
    const lines = io.text().trim().split('\n');
    expect(lines.map((l) => l.split('  ')[0].trim())).toEqual(['0/4', '1/4', '4/4']);
    expect(io.text()).not.toContain('\r');
  });
});

describe('table, csv, format', () => {
  it('aligns columns, right-aligns numbers, cuts long cells', () => {
    const t = formatTable(
      [
        { header: 'NAME', value: (r: { n: string; c: number }) => r.n, maxWidth: 6 },
        { header: 'COUNT', value: (r) => r.c },
      ],
      [
        { n: 'a', c: 1 },
        { n: 'very long name', c: 12345 },
      ],
    );
    expect(t.split('\n')).toEqual(['NAME    COUNT', '------  -----', 'a           1', 'very …  12345']);
  });

  it('quotes CSV fields that need it', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', null, 3, 'x\ny'])).toBe('a,"b,c","say ""hi""",,3,"x\ny"');
  });

  it('formats durations and rates', () => {
    expect([formatDuration(500), formatDuration(61_000), formatDuration(3_600_000 * 3 + 60_000), formatDuration(-1)]).toEqual(['1s', '1m01s', '3h01m', '?']);
    expect([formatRate(0), formatRate(2.5), formatRate(0.5), formatRate(0.001)]).toEqual(['-', '2.5/s', '30/min', '3.6/h']);
  });
});
