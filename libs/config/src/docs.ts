/**
 * docs/configuration.md, generated from the schemas of ./schema (npm run docs:config): every key of
 * every section with its type, default, PDR_* variable and meaning. A test fails when it is stale.
 */
import { SAFE_NAME_RULE } from '@pdr/contracts';
import { KOSMATAU_PARAMETER_DEFAULTS } from '@pdr/domain';
import { CONFIG_FIELDS, SECTION_ALIASES, SECTION_NAMES, type DefaultContext, type FieldInfo, type FieldKind } from './schema';

const KIND_TEXT: Record<FieldKind, string> = {
  string: 'text',
  secret: 'secret text (masked)',
  path: 'path (resolved against the cwd)',
  name: SAFE_NAME_RULE,
  text: 'text',
  int: 'integer',
  posint: 'integer ≥ 1',
  nonnegint: 'integer ≥ 0',
  port: 'port (1-65535)',
  number: 'number',
  bool: 'true/false (yes/no, on/off)',
  axis: 'list of decimal numbers as written (one value allowed)',
  species: 'list of species (or one whitespace-separated string)',
  strlist: 'list of text',
  record: 'mapping',
  db_type: 'mysql, mariadb, sqlite, postgresql',
  storage_type: 'local, sftp, rclone, remote',
  slurm_time: 'Slurm time limit',
};

/** A context no default may depend on without saying so in `defaultText`. */
const DOC_CONTEXT: DefaultContext = { cwd: '<cwd>', env: {}, now: new Date(0) };

/** One table cell: no line breaks, `|` escaped, `\\` and `<…>` shown as text outside code spans. */
function cell(s: string): string {
  return s
    .replace(/\s*\n\s*/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replace(/\\/g, '\\\\').replace(/</g, '&lt;').replace(/>/g, '&gt;') : part))
    .join('`')
    .replace(/\|/g, '\\|');
}

function defaultText(f: FieldInfo): string {
  if (f.defaultText) return f.defaultText;
  if (!f.default) return '—';
  const v = f.default(DOC_CONTEXT);
  if (v === undefined) return '—';
  return `\`${typeof v === 'string' ? (v === '' ? "''" : v) : JSON.stringify(v)}\``;
}

function notes(f: FieldInfo): string {
  if (!f.ignored) return cell(f.doc);
  const when = f.ignored.when ? `without effect ${f.ignored.whenText ?? 'for some values'}` : 'accepted, without effect';
  return cell(`${f.doc}. **${when}**${f.ignored.why ? `: ${f.ignored.why}` : ''}`);
}

function table(fields: readonly FieldInfo[]): string[] {
  const out = ['| key | type | default | variable | meaning |', '|---|---|---|---|---|'];
  for (const f of fields) {
    const vars = f.env === null ? '—' : f.env.map((n) => `\`${n}\``).join(', ');
    out.push(`| \`${f.key}\` | ${cell(KIND_TEXT[f.kind])} | ${cell(defaultText(f))} | ${vars} | ${notes(f)} |`);
  }
  return out;
}

export function renderConfigDoc(): string {
  const aliases = Object.entries(SECTION_ALIASES).map(([a, s]) => `\`${a}\` = \`${s}\``).join(', ');
  const out = [
    '# Configuration',
    '',
    '<!-- Generated from libs/config/src/schema.ts by `npm run docs:config`; a test fails when it is stale. -->',
    '',
    "pdr_run's YAML sections and keys, and the `PDR_*` variables. One precedence for every key: **command-line",
    'flag > environment variable > config file > default**. An empty variable counts as unset. Relative paths',
    "are resolved once, against the caller's working directory. Unknown sections and keys are errors naming",
    `file:line:column and the nearest known key. Section aliases (pdr_run): ${aliases}.`,
    'Keys accepted for pdr_run compatibility without effect are reported with a one-line notice naming the key.',
  ];
  for (const section of SECTION_NAMES) {
    out.push('', `## ${section}`, '');
    if (section === 'non_default_parameters') {
      out.push(
        `Any of the ${KOSMATAU_PARAMETER_DEFAULTS.length} \`kosmatau_parameters\` columns (libs/domain), by its exact name; no`,
        'variables. Default: empty, so the column defaults apply. Setting a column computed per grid point',
        '(`zmetal xnsur mass sint rtot`) replaces it at every point, with a warning.',
      );
      continue;
    }
    out.push(...table(CONFIG_FIELDS.filter((f) => f.section === section)));
  }
  out.push('', '## top level', '', ...table(CONFIG_FIELDS.filter((f) => f.section === undefined)));
  out.push('', '`log_dir` is not accepted in a file (`PDR_LOG_DIR`).', '');
  return out.join('\n');
}
