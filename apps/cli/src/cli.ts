import { Command, CommanderError } from 'commander';
import { maskText, registerSecret } from '@pdr/logging';
import { CliContext, defaultRepoRoot } from './context';
import { classifyError, EXIT, ExitWith, UsageError } from './errors';
import { statusesHelpText } from './output/statuses';
import { errorLine, Io, processIo } from './output/io';
import { registerCancel } from './commands/cancel';
import { registerCheck } from './commands/check';
import { registerLog } from './commands/log';
import { registerShow } from './commands/show';
import { registerHealth } from './commands/health';
import { registerInputs } from './commands/inputs';
import { registerJobs } from './commands/jobs';
import { registerRetry } from './commands/retry';
import { registerRun } from './commands/run';
import { registerStatus } from './commands/status';
import { registerStorage } from './commands/storage';
import { registerUp } from './commands/up';
import { registerDb } from './commands/db';
import { registerWeb } from './commands/web';
import { registerSlurm } from './commands/slurm';

export const VERSION = '0.1.0';

export interface CliEnvironment {
  io?: Io;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  repoRoot?: string;
}

/** The `pdr` program with every command; errors surface as CommanderError/thrown values (exitOverride). */
export function buildProgram(getCtx: () => CliContext, io: Io): Command {
  const program = new Command('pdr');
  program
    .description('the grid runner for KOSMA-tau: submit, follow and query grids of PDR models')
    .version(VERSION, '--version', 'print the version')
    .option('--verbose', 'more detail on errors')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => io.write(s),
      writeErr: (s) => process.stderr.write(maskText(s)),
      // one line: commander's suggestion "(Did you mean run?)" joins the error line
      outputError: (s, write) => write(`pdr: ${s.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });
  registerRun(program, getCtx);
  registerStatus(program, getCtx);
  registerJobs(program, getCtx);
  registerShow(program, getCtx);
  registerLog(program, getCtx);
  registerCancel(program, getCtx);
  registerRetry(program, getCtx);
  registerHealth(program, getCtx);
  registerInputs(program, getCtx);
  registerCheck(program, getCtx);
  registerUp(program, getCtx);
  registerDb(program, getCtx);
  registerHelp(program, io);
  registerWeb(program, getCtx);
  registerStorage(program, getCtx);
  registerSlurm(program, getCtx);
  return program;
}

/**
 * `pdr help [command|topic]`: commander's help for a command, plus topics (`statuses`). Replaces
 * commander's implicit help command so the topics fit in.
 */
function registerHelp(program: Command, io: Io): void {
  program.helpCommand(false);
  program
    .command('help')
    .argument('[topic]', `a command, or a topic: ${Object.keys(HELP_TOPICS).join(', ')}`)
    .description('help for a command, or a topic: statuses (what each job status means and what to do)')
    .action((topic: string | undefined) => {
      if (topic === undefined) return program.outputHelp();
      const topicText = HELP_TOPICS[topic];
      if (topicText) return io.out(topicText());
      const cmd = program.commands.find((c) => c.name() === topic);
      if (!cmd) throw new UsageError(`no help for "${topic}": give a command (${program.commands.map((c) => c.name()).join(', ')}) or a topic (${Object.keys(HELP_TOPICS).join(', ')})`);
      cmd.outputHelp();
    });
}

const HELP_TOPICS: Record<string, () => string> = { statuses: statusesHelpText };

/** Runs `pdr` with argv (node, script, ...args) and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], e: CliEnvironment = {}): Promise<number> {
  const io = e.io ?? processIo();
  const env = e.env ?? process.env;
  // Secrets from the environment are masked in everything printed, from the first line on.
  registerSecret(env.PDR_DB_PASSWORD);
  registerSecret(env.PDR_STORAGE_PASSWORD);
  registerSecret(env.PDR_STORAGE_KEY_PASSPHRASE);
  registerSecret(env.PDR_NATS_PASSWORD);
  registerSecret(env.PDR_NATS_TOKEN);
  let verbose = argv.includes('--verbose');
  let program: Command | undefined;
  const getCtx = (): CliContext => {
    verbose = verbose || program?.opts<{ verbose?: boolean }>().verbose === true;
    return { io, env, cwd: e.cwd ?? process.cwd(), verbose, repoRoot: e.repoRoot ?? defaultRepoRoot() };
  };
  try {
    program = buildProgram(getCtx, io);
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ExitWith) return err.exitCode;
    if (err instanceof CommanderError) {
      // commander printed its message already (help, version, unknown option, conflicts, bad values)
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      return EXIT.USAGE;
    }
    const c = classifyError(err);
    if (c.message) io.err(errorLine(c.message));
    if (verbose && c.detail) io.err(c.detail);
    return c.exitCode;
  }
}
