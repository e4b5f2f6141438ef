import { durationRule, parseDuration } from '../../src/domain/duration.js';
import { runKinds, runStatuses } from '../../src/domain/runs.js';
import { ProvisionerApiError } from '../session.js';
import type { Run } from '../runs.js';
import type { Command, CommandContext } from './commands.js';
import { optionString, positional, waitOptions } from './commands.js';
import { UsageError } from './output.js';

/** One line per run; with `details`, its steps below. */
export function runLine(r: Run, details = false): string {
  const parts = [r.id, r.kind, r.cluster, r.version, r.status];
  if (r.failed_step) parts.push(`at step ${r.failed_step}`);
  if (r.created_at) parts.push(`started ${r.created_at}`);
  if (r.reason && r.status !== 'passed') parts.push(`(${r.reason})`);
  const steps = details ? r.steps.map((s) => `  ${s.name}: ${s.status} (${s.seconds} s${s.exit_code === undefined ? '' : `, exit ${s.exit_code}`})`) : [];
  return [parts.join('  '), ...steps].join('\n');
}

/** `--kind` / `--status`, one of `allowed`. */
function choice<T extends string>(context: CommandContext, name: string, allowed: readonly T[]): T | undefined {
  const value = optionString(context, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got ${value})`);
  return value as T;
}

function version(context: CommandContext): string {
  const value = optionString(context, 'version');
  if (!value) throw new UsageError('--version REF is required (a branch, tag or commit)');
  return value;
}

/**
 * Starts a TEST or RELEASE; with --wait, polls until it ends and fails the command (exit 1, the run
 * in the error's details) unless it passed, so a nightly job fails with it.
 */
async function start(context: CommandContext, kind: 'test' | 'release'): Promise<void> {
  const cluster = positional(context, 'cluster');
  const ref = version(context);
  // Runs may last hours (the catalog's default time limit is 2h).
  const wait = waitOptions(context, '2h');
  const started = kind === 'test' ? await context.client.runs.test(cluster, ref) : await context.client.runs.release(cluster, ref);
  if (!wait) {
    context.out.result(started, runLine(started));
    return;
  }
  context.out.progress(`${kind} ${started.id} on ${cluster} at ${ref}: ${started.status}`);
  const run = await context.client.runs.waitFor(started.id, {
    timeoutMs: wait.timeoutMs,
    intervalMs: Number(process.env.PROVISIONER_POLL_MS ?? 2_000),
    onProgress: (r, elapsed) => context.out.progress(`${kind} ${r.id} on ${cluster}: ${r.status}${stepNow(r)} (${Math.round(elapsed / 1000)} s)`),
  });
  if (run.status === 'passed') {
    context.out.result(run, runLine(run, true));
    return;
  }
  // Text output keeps the run (its id, for `run ID --log`) on stdout; --json has it in the error's details.
  if (!context.out.json) context.out.result(run, runLine(run, true));
  const where = run.failed_step ? ` at step ${run.failed_step}` : '';
  throw new ProvisionerApiError(0, 'operation_failed', `${kind} ${run.id} on ${cluster} ended ${run.status}${where}: ${run.reason ?? 'no reason given'}.`, { run });
}

/** `run ID --follow`: the log as it grows on stdout until the run ends; the outcome as `test --wait` gives it. */
async function follow(context: CommandContext, id: string): Promise<void> {
  if (context.out.json) throw new UsageError('--follow streams text; without it, run ID --log --json gives the log so far');
  const timeout = optionString(context, 'timeout') ?? '2h';
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined) throw new UsageError(`--timeout ${durationRule} (got ${timeout})`);
  const run = await context.client.runs.followLog(id, { timeoutMs, intervalMs: Number(process.env.PROVISIONER_POLL_MS ?? 2_000), onText: (text) => context.out.write(text) });
  context.out.progress(runLine(run));
  if (run.status !== 'passed') {
    const where = run.failed_step ? ` at step ${run.failed_step}` : '';
    throw new ProvisionerApiError(0, 'operation_failed', `${run.kind} ${run.id} on ${run.cluster} ended ${run.status}${where}: ${run.reason ?? 'no reason given'}.`, { run });
  }
}

/** `, last step NAME STATUS`: the latest step the run reports, if any. */
function stepNow(r: Run): string {
  const step = r.steps.at(-1);
  return step ? `, last step ${step.name} ${step.status}` : '';
}

const waitFlags = { version: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } } as const;

export const runCommands: Record<string, Command> = {
  test: {
    usage: 'test <cluster> --version REF [--wait] [--timeout 2h]',
    summary: 'TEST: run the test plan at a git ref against a running cluster (exit 1 if a waited run does not pass)',
    options: waitFlags,
    run: (context) => start(context, 'test'),
  },
  release: {
    usage: 'release <cluster> --version REF [--wait] [--timeout 2h]',
    summary: 'RELEASE: run the release plan at a git ref (exit 1 if a waited run does not pass)',
    options: waitFlags,
    run: (context) => start(context, 'release'),
  },
  runs: {
    usage: `runs [--cluster C] [--kind ${runKinds.join('|')}] [--status S]`,
    summary: 'Runs, newest first',
    options: { cluster: { type: 'string' }, kind: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
    async run(context) {
      if (context.args.length > 0) throw new UsageError(`unexpected ${context.args.join(' ')}`);
      const limit = Number(optionString(context, 'limit') ?? 25);
      if (!(Number.isInteger(limit) && limit >= 1)) throw new UsageError('--limit must be a whole number above 0');
      const filter = { cluster: optionString(context, 'cluster'), kind: choice(context, 'kind', runKinds), status: choice(context, 'status', runStatuses) };
      const runs: Run[] = [];
      for await (const run of context.client.runs.all(filter)) {
        runs.push(run);
        if (runs.length >= limit) break;
      }
      context.out.result(runs, runs.map((r) => runLine(r)).join('\n') || 'No runs.');
    },
  },
  run: {
    usage: 'run <id> [--log] [--follow [--timeout 2h]]',
    summary: 'A run and its steps; with --log, its log so far; with --follow, its log as it grows until the run ends (exit 1 unless it passed)',
    options: { log: { type: 'boolean' }, follow: { type: 'boolean' }, timeout: { type: 'string' } },
    async run(context) {
      const id = positional(context, 'id');
      if (context.options.follow) return follow(context, id);
      if (optionString(context, 'timeout') !== undefined) throw new UsageError('--timeout needs --follow (it bounds the wait)');
      if (context.options.log) {
        const log = await context.client.runs.log(id);
        context.out.result({ id, log }, log.replace(/\n$/, ''));
        return;
      }
      const run = await context.client.runs.get(id);
      context.out.result(run, runLine(run, true));
    },
  },
  'cancel-run': {
    usage: 'cancel-run <id>',
    summary: 'Cancel a run that has not ended',
    async run(context) {
      const run = await context.client.runs.cancel(positional(context, 'id'));
      context.out.result(run, runLine(run));
    },
  },
};
