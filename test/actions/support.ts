import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

export interface ActionResult {
  exitCode: number | null;
  stdout: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

/**
 * Runs a bundled action step as the runner does: `node <script>` with each input as `INPUT_<NAME>`
 * (uppercase, spaces as `_`; the defaults of its action.yml for those not given), the state the main step saved as `STATE_<name>`, and the
 * GITHUB_OUTPUT, GITHUB_STATE and GITHUB_STEP_SUMMARY files, read back afterwards.
 */
export async function runStep(
  script: string,
  options: { inputs?: Record<string, string>; state?: Record<string, string>; env?: Record<string, string> } = {},
): Promise<ActionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'action-step-'));
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STATE: join(dir, 'state'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, ...files, ...options.env };
  for (const [name, value] of Object.entries({ ...inputDefaults(script), ...options.inputs })) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    exitCode,
    stdout,
    outputs: readFileCommands(files.GITHUB_OUTPUT),
    state: readFileCommands(files.GITHUB_STATE),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

/** The `name<<DELIMITER\nvalue\nDELIMITER` entries @actions/core appends to GITHUB_OUTPUT and GITHUB_STATE. */
function readFileCommands(path: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const pattern = /^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const [, name, , value] of readFileSync(path, 'utf8').matchAll(pattern)) entries[name as string] = value as string;
  return entries;
}

/** The defaults of the inputs declared in the action.yml beside the script's `dist/`. */
function inputDefaults(script: string): Record<string, string> {
  const action = parse(readFileSync(join(dirname(dirname(script)), 'action.yml'), 'utf8')) as { inputs?: Record<string, { default?: string }> };
  return Object.fromEntries(Object.entries(action.inputs ?? {}).flatMap(([name, input]) => (input.default === undefined ? [] : [[name, input.default]])));
}
