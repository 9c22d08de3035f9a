import { parseStateArgs } from './main';

describe('state arguments', () => {
  it('serves by default; upgrade is a mode with --dry-run', () => {
    expect(parseStateArgs([])).toEqual({ mode: 'serve', configFile: undefined, dryRun: false });
    expect(parseStateArgs(['--config', 'c.yaml'])).toEqual({ mode: 'serve', configFile: 'c.yaml', dryRun: false });
    expect(parseStateArgs(['upgrade', '--dry-run', '--config=c.yaml'])).toEqual({ mode: 'upgrade', configFile: 'c.yaml', dryRun: true });
  });

  it.each([
    [['--frobnicate'], /^Unknown option '--frobnicate' \(usage: /],
    [['--config'], /^Option '--config <value>' argument missing/],
    [['--config='], /^--config needs a value \(usage: /],
    [['--dry-run'], /^--dry-run belongs to the upgrade mode/],
    [['downgrade'], /^unknown mode "downgrade"/],
    [['upgrade', 'now'], /^unexpected argument "now"/],
    [['upgrade', '--dry-run=yes'], /^Option '--dry-run' does not take an argument/],
  ])('%j is a one-line error naming it', (argv, message) => {
    let err: Error | undefined;
    try {
      parseStateArgs(argv);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).not.toContain('\n');
  });
});
