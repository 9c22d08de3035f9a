import { Registry } from 'prom-client';
import { LATENCY_BUCKETS, metricsOn } from './metrics';

describe('metricsOn', () => {
  it("declares counters and histograms on the registry; a counter's known values start at 0", async () => {
    const registry = new Registry();
    const m = metricsOn(registry);
    const c = m.counter('pdr_test_things_total', 'things by result', ['result'], ['ok', 'failed']);
    const h = m.histogram('pdr_test_seconds', 'time per kind', LATENCY_BUCKETS, ['kind']);
    c.inc({ result: 'ok' });
    h.observe({ kind: 'a' }, 0.002);
    const text = await registry.metrics();
    expect(text).toContain('# HELP pdr_test_things_total things by result');
    expect(text).toMatch(/^pdr_test_things_total\{result="ok"\} 1$/m);
    expect(text).toMatch(/^pdr_test_things_total\{result="failed"\} 0$/m);
    expect(text).toMatch(/^pdr_test_seconds_count\{kind="a"\} 1$/m);
    expect(text).toMatch(/^pdr_test_seconds_bucket\{le="0.0025",kind="a"\} 1$/m);
  });

  it('refuses zeroes without exactly one label', () => {
    expect(() => metricsOn(new Registry()).counter('pdr_test_x_total', 'x', ['a', 'b'], ['v'])).toThrow('pdr_test_x_total: zeroes need exactly one label');
  });
});
