import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import type { ConfigFlags } from '@pdr/config';
import { locateTemplates, readTemplates, renderInputsForPoint } from '@pdr/domain';
import { config as configLib } from '../lazy';
import { CliContext } from '../context';
import { UsageError } from '../errors';
import { warningLine } from '../output/io';

export interface InputsOptions {
  config?: string;
  metal?: string;
  dens?: string;
  mass?: string;
  chi?: string;
  jsonTemplate?: string;
  out?: string;
  stdout?: boolean;
}

const AXES = ['metal', 'dens', 'mass', 'chi'] as const;

/**
 * Offline: renders PDRNEW.INP and pdr_config.json of one point with the templates of the PDR base dir,
 * exactly as a runner would, and writes them into --out (or prints them). No service is contacted.
 */
export async function runInputs(ctx: CliContext, o: InputsOptions): Promise<number> {
  const mp: Record<string, string[]> = {};
  for (const a of AXES) if (o[a] !== undefined) mp[a] = [o[a] as string];
  const flags: ConfigFlags = {};
  if (Object.keys(mp).length > 0) flags.model_parameters = mp as ConfigFlags['model_parameters'];
  if (o.jsonTemplate !== undefined) flags.pdr = { json_template: o.jsonTemplate };
  const { config, warnings } = configLib().loadConfig({ file: o.config, env: ctx.env, flags, cwd: ctx.cwd });
  for (const w of warnings) ctx.io.err(warningLine(w));
  const baseDir = config.pdr.base_dir;
  if (!baseDir) throw new UsageError('pdr.base_dir is not set (config file pdr.base_dir, environment PDR_BASE_DIR or PDR_EXEC_PATH); the templates are looked up there');
  const m = config.model_parameters;
  const point = { metal: m.metal[0], dens: m.dens[0], mass: m.mass[0], chi: m.chi[0] };
  for (const a of AXES) {
    if (m[a].length > 1) ctx.io.err(warningLine(`model_parameters.${a} has ${m[a].length} values; using the first ("${m[a][0]}"); choose one with --${a}`));
  }
  const located = await locateTemplates(baseDir, {
    pdrinpTemplateFile: config.pdr.pdrinp_template_file,
    jsonTemplateFile: config.pdr.json_template_file,
    jsonTemplateOverride: config.pdr.json_template,
    cwd: ctx.cwd,
  });
  for (const w of located.warnings) ctx.io.err(warningLine(w));
  const templates = await readTemplates(located);
  const r = renderInputsForPoint({
    point,
    pdrnewTemplate: templates.pdrnewTemplate,
    jsonTemplate: templates.jsonTemplate,
    alpha: m.alpha,
    rcore: m.rcore,
    chemistry: m.chemistry,
    nonDefault: config.non_default_parameters,
    chemDatabaseFile: config.pdr.chem_database,
  });
  const files: [string, string | null, string | null][] = [
    ['PDRNEW.INP', r.pdrnewInp, located.pdrnewTemplate],
    ['pdr_config.json', r.pdrConfigJson, located.jsonTemplate],
  ];
  if (o.stdout) {
    for (const [name, text, from] of files) {
      if (text === null) continue;
      ctx.io.out(`==> ${name} (job ${r.jobName}, from ${from}) <==`);
      ctx.io.write(text.endsWith('\n') ? text : `${text}\n`);
    }
    return 0;
  }
  const outDir = path.resolve(ctx.cwd, o.out ?? '.');
  try {
    fs.mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new UsageError(`--out ${outDir}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const [name, text, from] of files) {
    if (text === null) continue;
    const target = path.join(outDir, name);
    try {
      fs.writeFileSync(target, text);
    } catch (err) {
      throw new UsageError(`cannot write ${target} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    ctx.io.out(`wrote ${target} (job ${r.jobName}, from ${from})`);
  }
  return 0;
}

export function registerInputs(program: Command, ctx: () => CliContext): void {
  program
    .command('inputs')
    .description('offline: render PDRNEW.INP and pdr_config.json of one point with the base dir templates')
    .option('--config <file>', 'YAML config file (pdr_run format)')
    .option('--metal <value>', 'metallicity (default: first model_parameters.metal)')
    .option('--dens <value>', 'density, 10·log10(n) (default: first model_parameters.dens)')
    .option('--mass <value>', 'mass, 10·log10(M) (default: first model_parameters.mass)')
    .option('--chi <value>', 'FUV field, 10·log10(chi) (default: first model_parameters.chi)')
    .option('--json-template <file>', 'your pdr_config.json template, relative to the current directory')
    .option('--out <dir>', 'directory to write the two files into (default: the current directory)')
    .option('--stdout', 'print the files instead of writing them')
    .action(async (opts: InputsOptions) => {
      await runInputs(ctx(), opts);
    });
}
