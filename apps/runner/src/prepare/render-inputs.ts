import { ClaimedJob } from '@pdr/contracts';
import { checkBaseDir, checkTemplates, locateTemplates, PreflightError, readTemplates, renderPdrConfigJson, renderPdrnew } from '@pdr/domain';

export interface RenderedInputs {
  pdrnewInp: string | null;
  pdrConfigJson: string | null;
  warnings: string[];
}

/**
 * Renders PDRNEW.INP and pdr_config.json of a claimed job from the templates found in its base dir
 * (SPEC §5.4 step 5). The base dir and the templates are checked first on this machine with the CLI's
 * preflight (same wording): a missing base dir, or a missing PDRNEW template of a run that is not
 * JSON-only (pdr.json_only), fails the point with a PreflightError naming the key and the path.
 */
export async function renderInputs(job: ClaimedJob): Promise<RenderedInputs> {
  // the checks and the template search at once, then both templates at once (reported in the order of the
  // checks): one after the other they were ~14 thread-pool round trips on the way of a job claimed ahead to
  // its slot, ~15 ms on the busy 2-core bench machine (docs/benchmarks.md, issue 17)
  const [base, checked, found] = await Promise.allSettled([
    checkBaseDir(job.run.baseDir),
    checkTemplates({ ...job.run, species: job.onionSpecies }),
    locateTemplates(job.run.baseDir, {
      pdrinpTemplateFile: job.run.pdrinpTemplateFile,
      jsonTemplateFile: job.run.jsonTemplateFile,
      jsonTemplateOverride: job.run.jsonTemplateOverride ?? undefined,
    }),
  ]);
  if (base.status === 'rejected') throw base.reason;
  if (base.value) throw new PreflightError([base.value]);
  if (checked.status === 'rejected') throw checked.reason;
  if (checked.value.problems.length > 0) throw new PreflightError(checked.value.problems);
  if (found.status === 'rejected') throw found.reason;
  const templates = await readTemplates(found.value);
  const row = job.parameters;
  const pdrnewInp = templates.pdrnewTemplate !== null ? renderPdrnew(templates.pdrnewTemplate, row) : null;
  const pdrConfigJson = templates.jsonTemplate !== null ? renderPdrConfigJson(templates.jsonTemplate, row, { chemDatabaseFile: job.run.chemDatabase }) : null;
  return { pdrnewInp, pdrConfigJson, warnings: [...checked.value.warnings] };
}
