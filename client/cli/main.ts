import { parseArgs } from 'node:util';
import { createClient } from '../index.js';
import { authCommands } from './auth-commands.js';
import { clusterCommands } from './cluster-commands.js';
// workspaces
import { workspaceCommands } from './workspace-commands.js';
import type { Command } from './commands.js';
import { exit, exitCodeOf, output, UsageError } from './output.js';
// workbenches
import { workbenchCommands } from './workbench-commands.js';
// runs
import { runCommands } from './run-commands.js';
// doctor
import { doctorCommands } from './doctor-commands.js';
// tokens
import { tokenCommands } from './token-commands.js';
import { adminCommands } from './admin-commands.js';

/** One command module per resource; later resources (runs, workbenches, workspaces) add theirs here. */
const commands: Record<string, Command> = {
  ...authCommands,
  ...clusterCommands,
  // workspaces
  ...workspaceCommands,
  // workbenches
  ...workbenchCommands,
  // runs
  ...runCommands,
  // doctor
  ...doctorCommands,
  // tokens
  ...tokenCommands,
  ...adminCommands,
};

function help(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.usage.length));
  return [
    'usage: provisioner <command> [options] [--json]',
    '',
    ...Object.values(commands).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 success, 1 the operation failed, 2 usage, 3 not authenticated or not allowed, 4 timed out, 5 service unavailable.',
    'Configuration: ~/.config/provisioner.toml (PROVISIONER_CONFIG); PROVISIONER_URL, PROVISIONER_TOKEN, PROVISIONER_API_TOKEN, PROVISIONER_GITHUB_TOKEN override it.',
  ].join('\n');
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name ? exit.ok : exit.usage;
  }
  const command = commands[name];
  const json = rest.includes('--json');
  const out = output(json);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"; run provisioner --help`);
    const { values, positionals } = parseArgs({
      args: rest,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`usage: provisioner ${command.usage}\n${command.summary}\n`);
      return exit.ok;
    }
    const code = await command.run({ client: createClient(), out, args: positionals, options: values as Record<string, string | boolean | string[] | undefined> });
    return code ?? exit.ok;
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.error(new UsageError((error as Error).message));
      return exit.usage;
    }
    out.error(error);
    return exitCodeOf(error);
  }
}
