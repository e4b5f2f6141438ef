import type { Workspace } from '../workspaces.js';
import type { Command, CommandContext } from './commands.js';
import { optionString } from './commands.js';
import { UsageError } from './output.js';

/** One line per workspace; with `details`, its endpoints (the connection info) below. */
export function workspaceLine(w: Workspace, details = false): string {
  const parts = [w.id, w.name, w.status];
  if (w.expires_at) parts.push(`expires ${w.expires_at}`);
  if (w.reason) parts.push(`(${w.reason})`);
  const endpoints = details ? Object.entries(w.endpoints).map(([name, url]) => `  ${name}: ${url}`) : [];
  return [parts.join('  '), ...endpoints].join('\n');
}

/** `--version pachd=2.6.0` and `--set pachd.logLevel=debug`, repeatable, as a record. */
function pairs(context: CommandContext, option: string): Record<string, string> | undefined {
  const given = context.options[option];
  const list = Array.isArray(given) ? given : typeof given === 'string' ? [given] : [];
  if (list.length === 0) return undefined;
  return Object.fromEntries(
    list.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--${option} takes key=value (got ${pair})`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function one(context: CommandContext, what: string): string {
  const [, value, ...extra] = context.args;
  if (!value) throw new UsageError(`missing <${what}>`);
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  return value;
}

const subcommands: Record<string, (context: CommandContext) => Promise<void>> = {
  async create(context) {
    if (context.args.length > 1) throw new UsageError(`unexpected ${context.args.slice(1).join(' ')}`);
    const created = await context.client.workspaces.create({
      name: optionString(context, 'name'),
      expiry: optionString(context, 'expiry'),
      versions: pairs(context, 'version'),
      values: pairs(context, 'set'),
    });
    let workspace = created;
    if (context.options.wait) {
      const timeout = optionString(context, 'timeout') ?? '10m';
      const match = /^(\d+)([smh])$/.exec(timeout);
      if (!match) throw new UsageError(`--timeout must be a duration such as 90s, 10m or 1h (got ${timeout})`);
      workspace = await context.client.workspaces.waitForReady(created.id, {
        timeoutMs: Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'],
        intervalMs: Number(process.env.PROVISIONER_POLL_MS ?? 2_000),
        onProgress: (w, elapsed) => context.out.progress(`${w.name}: ${w.status} (${Math.round(elapsed / 1000)} s)`),
      });
    }
    context.out.result(workspace, workspaceLine(workspace, true));
  },
  async get(context) {
    const workspace = await context.client.workspaces.get(one(context, 'id'));
    context.out.result(workspace, workspaceLine(workspace, true));
  },
  async extend(context) {
    const expiry = optionString(context, 'expiry');
    if (!expiry) throw new UsageError('give the new expiry: --expiry 5d (or an ISO time)');
    const workspace = await context.client.workspaces.extend(one(context, 'id'), expiry);
    context.out.result(workspace, workspaceLine(workspace));
  },
  async delete(context) {
    const workspace = await context.client.workspaces.delete(one(context, 'id'));
    context.out.result(workspace, workspaceLine(workspace));
  },
  async events(context) {
    const page = await context.client.workspaces.events(one(context, 'id'), { limit: 25 });
    context.out.result(page.items, page.items.map((e) => `${e.time}  ${e.actor}  ${e.action}  ${e.from} → ${e.to}`).join('\n') || 'No events.');
  },
};

export const workspaceCommands: Record<string, Command> = {
  workspaces: {
    usage: 'workspaces',
    summary: 'Your workspaces (an administrator\'s: everyone\'s)',
    async run({ client, out }) {
      const all = [];
      for await (const workspace of client.workspaces.all()) all.push(workspace);
      out.result(all, all.map((w) => workspaceLine(w)).join('\n') || 'No workspaces.');
    },
  },
  workspace: {
    usage: 'workspace (create [--name N] [--expiry 36h] [--version k=v]... [--set k=v]... [--wait] | get ID | extend ID --expiry 5d | delete ID | events ID)',
    summary: 'Create, show, extend or delete a workspace (prints its connection info)',
    options: {
      name: { type: 'string' },
      expiry: { type: 'string' },
      version: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    async run(context) {
      const [sub] = context.args;
      const run = sub === undefined ? undefined : subcommands[sub];
      if (!run) throw new UsageError(`workspace needs one of ${Object.keys(subcommands).join(', ')}`);
      await run(context);
    },
  },
};
