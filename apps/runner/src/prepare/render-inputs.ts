import { readFile } from 'fs/promises';
import { ClaimedJob } from '@pdr/contracts';
import { locateTemplates, renderPdrConfigJson, renderPdrnew } from '@pdr/domain';

export interface RenderedInputs {
  pdrnewInp: string | null;
  pdrConfigJson: string | null;
  warnings: string[];
}

/**
 * Renders PDRNEW.INP and pdr_config.json of a claimed job from the templates found in its base dir
 * (SPEC §5.4 step 5). A missing template is a warning (JSON-only or PDRNEW-only workflows); both missing
 * is an error from the domain library.
 */
export async function renderInputs(job: ClaimedJob): Promise<RenderedInputs> {
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
  return { pdrnewInp, pdrConfigJson, warnings: [...found.warnings] };
}
