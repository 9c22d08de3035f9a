import { Command, InvalidArgumentError } from 'commander';

/** commander argument parsers: a bad value → commander's "option '--x <n>' argument 'y' is invalid." (exit 2). */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected an integer ≥ 0.');
  return Number(value);
}

export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number of seconds.');
  return n;
}

/** A random seed: unsigned 32-bit. */
export function seedValue(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 0xffffffff) throw new InvalidArgumentError('expected an integer 0..4294967295.');
  return n;
}

/** The grid axes and random-mode flags shared by `pdr run` and `pdr inputs` (one wording for both). */
export function addAxisOptions(cmd: Command): Command {
  return cmd
    .option('--metal <values...>', 'metallicity axis, percent of solar ("100" = solar)')
    .option('--dens <values...>', 'density axis, 10·log10(n/cm^-3) ("30" = 1000 cm^-3)')
    .option('--mass <values...>', 'mass axis, 10·log10(M/Msun) ("-10" = 0.1 Msun)')
    .option('--chi <values...>', 'FUV axis, 10·log10(chi/Draine) ("10" = 10)');
}

export function addRandomOptions(cmd: Command): Command {
  return cmd
    .option('--random [n]', 'n random points within the axis ranges (default model_parameters.random_model_num)', positiveInt)
    .option('--seed <n>', 'seed of --random (printed when drawn)', seedValue);
}

/** The preflight's flags, shared by `pdr run`, `pdr inputs` and `pdr check`. */
export function addPreflightOptions(cmd: Command): Command {
  return cmd
    .option('--remote-runners', "the runners are on other machines: base-dir checks on this machine are warnings (config pdr.remote_runners)")
    .option('--json-only', 'run from pdr_config.json alone: a missing PDRNEW template is not an error (config pdr.json_only)');
}
