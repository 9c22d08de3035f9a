import { parseArgs, type ParseArgsConfig } from 'util';

/**
 * A service's command line through node's own parser (`util.parseArgs`, strict), with every refusal as
 * one line that names the flag and ends with the service's usage. Node's message may run over several
 * lines or add advice about `--` that does not apply to a service; only its first sentence is kept.
 */
export function parseServiceArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs<T>({ ...config, strict: true });
  } catch (err) {
    const first = (err as Error).message.split('\n')[0].replace(/\. To specify .*$/, '').replace(/\.$/, '');
    throw new Error(`${first} (${usage})`);
  }
  for (const [flag, v] of Object.entries(parsed.values)) if (v === '') throw new Error(`--${flag} needs a value (${usage})`);
  return parsed;
}
