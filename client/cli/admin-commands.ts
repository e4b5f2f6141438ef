import { type Command, type CommandContext, optionString } from './commands.js';
import { UsageError } from './output.js';

/** `admin release-slot|force-absent CLUSTER --reason TEXT`: the cluster and the reason recorded on its trail. */
function clusterAndReason(context: CommandContext): { cluster: string; reason: string } {
  const [, cluster, ...extra] = context.args;
  if (!cluster) throw new UsageError('missing <cluster>');
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  const reason = optionString(context, 'reason');
  if (!reason) throw new UsageError('missing --reason (it is recorded on the cluster\'s trail)');
  return { cluster, reason };
}

const subcommands: Record<string, (context: CommandContext) => Promise<void>> = {
  async overview(context) {
    const overview = await context.client.call('admin-overview');
    const counts = Object.entries(overview.areas).map(([area, byStatus]) => `${area}: ${Object.entries(byStatus).filter(([, n]) => n > 0).map(([status, n]) => `${status} ${n}`).join(', ') || 'none'}`);
    const stuck = overview.stuck.map((s) => `STUCK ${s.kind} ${s.id} ${s.status} since ${s.since}${s.reason ? ` (${s.reason})` : ''}`);
    const slots = overview.slots.map((s) => `slots of ${s.deployer}: ${s.clusters.join(', ')}`);
    const due = overview.due.map((d) => `due ${d.at}: ${d.action} ${d.kind} ${d.id}`);
    const failed = overview.failed_runs.map((r) => `failed run ${r.id} ${r.status}${r.cluster ? ` on ${r.cluster}` : ''} at ${r.ended_at}`);
    context.out.result(overview, [...counts, ...(stuck.length ? stuck : ['nothing stuck']), ...slots, ...due, ...failed].join('\n'));
  },
  async 'release-slot'(context) {
    const { cluster, reason } = clusterAndReason(context);
    const answer = await context.client.call('admin-release-slot', { params: { cluster }, body: { reason } });
    context.out.result(answer, `${cluster}: its deployer's slot is free (the cluster stays ${answer.status}).`);
  },
  async 'force-absent'(context) {
    const { cluster, reason } = clusterAndReason(context);
    const answer = await context.client.call('admin-force-absent', { params: { cluster }, body: { reason } });
    context.out.result(answer, `${cluster}: ${answer.status}; the janitor removes what the backend still holds.`);
  },
};

export const adminCommands: Record<string, Command> = {
  admin: {
    usage: 'admin overview | release-slot CLUSTER --reason TEXT | force-absent CLUSTER --reason TEXT',
    summary: 'Administrators: what runs and what is stuck; the ways out of a destroy the backend refuses',
    options: { reason: { type: 'string' } },
    async run(context) {
      const [sub] = context.args;
      const run = sub === undefined ? undefined : subcommands[sub];
      if (!run) throw new UsageError(`admin needs one of ${Object.keys(subcommands).join(', ')}`);
      await run(context);
    },
  },
};
