import { readFile } from 'fs/promises';
import { ClaimedJob } from '@pdr/contracts';
import { checkBaseDir, checkTemplates, locateTemplates, PreflightError, renderPdrConfigJson, renderPdrnew } from '@pdr/domain';

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
  const base = await checkBaseDir(job.run.baseDir);
  if (base) throw new PreflightError([base]);
  const checked = await checkTemplates({ ...job.run, species: job.onionSpecies });
  if (checked.problems.length > 0) throw new PreflightError(checked.problems);
  const found = await locateTemplates(job.run.baseDir, {
    pdrinpTemplateFile: job.run.pdrinpTemplateFile,
    jsonTemplateFile: job.run.jsonTemplateFile,
    jsonTemplateOverride: job.run.jsonTemplateOverride ?? undefined,
  });
  const row = job.parameters;
  const pdrnewInp = found.pdrnewTemplate ? renderPdrnew(await readFile(found.pdrnewTemplate, 'utf8'), row) : null;
  const pdrConfigJson = found.jsonTemplate
    ? renderPdrConfigJson(await readFile(found.jsonTemplate, 'utf8'), row, { chemDatabaseFile: job.run.chemDatabase })
    : null;
  return { pdrnewInp, pdrConfigJson, warnings: [...checked.warnings] };
}
