import { rateAndEta } from './hub';

describe('rateAndEta', () => {
  it('points ended per second since the first start, and the time left', () => {
    const counts = { finished: 30, failed: 10, queued: 60 };
    const r = rateAndEta(counts, 100, new Date(0).toISOString(), 20_000);
    expect(r).toEqual({ done: 40, rate: 2, etaSeconds: 30 });
    expect(rateAndEta({ queued: 5 }, 5, null).rate).toBeNull();
  });
});
