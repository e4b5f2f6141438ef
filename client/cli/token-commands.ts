import { apiTokenScopes } from '../../src/domain/api-tokens.js';
import type { ApiToken } from '../tokens.js';
import { type Command, type CommandContext, optionString } from './commands.js';
import { UsageError } from './output.js';

function tokenLine(t: ApiToken): string {
  const parts = [t.id, t.name, t.scopes.join(','), `expires ${t.expires_at}`];
  if (t.clusters) parts.push(`clusters ${t.clusters.join(',')}`);
  if (t.last_used_at) parts.push(`last used ${t.last_used_at}${t.last_used_from ? ` from ${t.last_used_from}` : ''}`);
  if (t.revoked_at) parts.push(`revoked ${t.revoked_at}`);
  return parts.join('  ');
}

/** A repeatable option (`--scope a --scope b`), each value possibly a comma-separated list. */
function list(context: CommandContext, name: string): string[] | undefined {
  const value = context.options[name];
  if (value === undefined || typeof value === 'boolean') return undefined;
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** The one positional argument after the subcommand. */
function argument(context: CommandContext, name: string): string {
  const [, value, ...extra] = context.args;
  if (!value) throw new UsageError(`missing <${name}>`);
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  return value;
}

const subcommands: Record<string, (context: CommandContext) => Promise<void>> = {
  async create(context) {
    const name = argument(context, 'name');
    const scopes = list(context, 'scope');
    if (!scopes?.length) throw new UsageError(`give at least one --scope (${apiTokenScopes.join(', ')})`);
    const expiresIn = optionString(context, 'expires-in');
    if (!expiresIn) throw new UsageError('missing --expires-in (a duration such as 7d)');
    const clusters = list(context, 'cluster');
    const created = await context.client.tokens.create({
      name,
      scopes: scopes as (typeof apiTokenScopes)[number][],
      expires_in: expiresIn,
      ...(clusters && { clusters }),
    });
    context.out.result(created, `${tokenLine(created)}\nThe token, shown this once (store it as PROVISIONER_API_TOKEN):\n${created.token}`);
  },
  async list(context) {
    const all: ApiToken[] = [];
    let nextToken: string | undefined;
    do {
      const page = await context.client.tokens.list({ limit: 100, nextToken, owner: optionString(context, 'owner') });
      all.push(...page.items);
      nextToken = page.next_token;
    } while (nextToken);
    context.out.result(all, all.map(tokenLine).join('\n') || 'No API tokens.');
  },
  async revoke(context) {
    const id = argument(context, 'id');
    await context.client.tokens.revoke(id);
    context.out.result({ id, revoked: true }, `Revoked ${id}: it no longer logs in, and its sessions end within a minute.`);
  },
};

export const tokenCommands: Record<string, Command> = {
  tokens: {
    usage: 'tokens create NAME --scope SCOPE... --expires-in 7d [--cluster NAME...] | list [--owner LOGIN] | revoke ID',
    summary: 'Scoped, expiring API tokens for automation (use one as PROVISIONER_API_TOKEN)',
    options: { scope: { type: 'string', multiple: true }, cluster: { type: 'string', multiple: true }, 'expires-in': { type: 'string' }, owner: { type: 'string' } },
    async run(context) {
      const [sub] = context.args;
      const run = sub === undefined ? undefined : subcommands[sub];
      if (!run) throw new UsageError(`tokens needs one of ${Object.keys(subcommands).join(', ')}`);
      await run(context);
    },
  },
};
