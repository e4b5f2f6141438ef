import type { Workbench, WorkbenchStatus } from '../workbenches.js';
import { type Command, type CommandContext, optionString } from './commands.js';
import { UsageError } from './output.js';

function workbenchLine(w: Workbench): string {
  const parts = [w.id, w.name, w.status, `cpu ${w.cpu}`, `memory ${w.memory} MiB`];
  if (w.gpu > 0) parts.push(`gpu ${w.gpu}`);
  if (w.endpoint) parts.push(w.endpoint);
  if (w.stops_at) parts.push(`stops at ${w.stops_at}`);
  if (w.reason) parts.push(`(${w.reason})`);
  return parts.join('  ');
}

function whole(context: CommandContext, name: string, required: boolean): number | undefined {
  const text = optionString(context, name);
  if (text === undefined) {
    if (required) throw new UsageError(`missing --${name}`);
    return undefined;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} must be a whole number (got ${text})`);
  return value;
}

/** `--wait`: polls with a progress line until `target`, within `--timeout` (default 10m). */
async function waitIfAsked(context: CommandContext, target: WorkbenchStatus, current: Workbench): Promise<Workbench> {
  if (!context.options.wait || current.status === target) return current;
  const timeout = optionString(context, 'timeout') ?? '10m';
  const match = /^(\d+)([smh])$/.exec(timeout);
  if (!match) throw new UsageError(`--timeout must be a duration such as 90s, 10m or 1h (got ${timeout})`);
  const timeoutMs = Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
  return context.client.workbenches.waitFor(current.id, target, {
    timeoutMs,
    intervalMs: Number(process.env.PROVISIONER_POLL_MS ?? 2_000),
    onProgress: (w, elapsed) => context.out.progress(`${w.id}: ${w.status} (${Math.round(elapsed / 1000)} s)`),
  });
}

/** The positional arguments after the subcommand, exactly `names`. */
function args(context: CommandContext, ...names: string[]): string[] {
  const given = context.args.slice(1);
  if (given.length < names.length) throw new UsageError(`missing <${names[given.length]}>`);
  if (given.length > names.length) throw new UsageError(`unexpected ${given.slice(names.length).join(' ')}`);
  return given;
}

const subcommands: Record<string, (context: CommandContext) => Promise<void>> = {
  async create(context) {
    const [name = ''] = args(context, 'name');
    const gpu = whole(context, 'gpu', false);
    const created = await context.client.workbenches.create({
      name,
      cpu: whole(context, 'cpu', true) ?? 0,
      memory: whole(context, 'memory', true) ?? 0,
      ...(gpu !== undefined && { gpu }),
      ...(context.options.dedicated === true && { dedicated_instance: true }),
    });
    const workbench = await waitIfAsked(context, 'running', created);
    context.out.result(workbench, workbenchLine(workbench));
  },
  async start(context) {
    const [id = ''] = args(context, 'id');
    const workbench = await waitIfAsked(context, 'running', await context.client.workbenches.start(id));
    context.out.result(workbench, workbenchLine(workbench));
  },
  async stop(context) {
    const [id = ''] = args(context, 'id');
    const workbench = await waitIfAsked(context, 'stopped', await context.client.workbenches.stop(id));
    context.out.result(workbench, workbenchLine(workbench));
  },
  async delete(context) {
    const [id = ''] = args(context, 'id');
    const workbench = await context.client.workbenches.delete(id);
    context.out.result(workbench, workbenchLine(workbench));
  },
  async status(context) {
    const [id = ''] = args(context, 'id');
    const workbench = await context.client.workbenches.get(id);
    context.out.result(workbench, workbenchLine(workbench));
  },
  async share(context) {
    const [id = '', login = ''] = args(context, 'id', 'login');
    const workbench = await context.client.workbenches.share(id, login);
    context.out.result(workbench, `${workbench.id} shared with ${workbench.shares.join(', ') || 'nobody'}`);
  },
  async unshare(context) {
    const [id = '', login = ''] = args(context, 'id', 'login');
    const workbench = await context.client.workbenches.unshare(id, login);
    context.out.result(workbench, `${workbench.id} shared with ${workbench.shares.join(', ') || 'nobody'}`);
  },
};

export const workbenchCommands: Record<string, Command> = {
  workbenches: {
    usage: 'workbenches [--owner LOGIN]',
    summary: 'Your workbenches (administrators: someone else\'s with --owner)',
    options: { owner: { type: 'string' } },
    async run(context) {
      const all: Workbench[] = [];
      let nextToken: string | undefined;
      do {
        const page = await context.client.workbenches.list({ limit: 100, nextToken, owner: optionString(context, 'owner') });
        all.push(...page.items);
        nextToken = page.next_token;
      } while (nextToken);
      context.out.result(all, all.map(workbenchLine).join('\n') || 'No workbenches.');
    },
  },
  workbench: {
    usage: 'workbench create NAME --cpu N --memory MiB [--gpu N] [--dedicated] [--wait] | start|stop|delete|status ID [--wait] | share|unshare ID LOGIN',
    summary: 'Create, start, stop, delete or share a workbench',
    options: { cpu: { type: 'string' }, memory: { type: 'string' }, gpu: { type: 'string' }, dedicated: { type: 'boolean' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
    async run(context) {
      const [sub] = context.args;
      const run = sub === undefined ? undefined : subcommands[sub];
      if (!run) throw new UsageError(`workbench needs one of ${Object.keys(subcommands).join(', ')}`);
      await run(context);
    },
  },
};
