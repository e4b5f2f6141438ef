import type { Command } from './commands.js';
import { clusterLine, optionString, positional, waitIfAsked, waitOptions } from './commands.js';
import { UsageError } from './output.js';

const waitFlags = { wait: { type: 'boolean' }, timeout: { type: 'string' } } as const;

export const clusterCommands: Record<string, Command> = {
  clusters: {
    usage: 'clusters',
    summary: 'The clusters you may see, with their status',
    async run({ client, out }) {
      const all = [];
      for await (const cluster of client.clusters.all()) all.push(cluster);
      out.result(all, all.map(clusterLine).join('\n') || 'No clusters.');
    },
  },
  status: {
    usage: 'status <cluster>',
    summary: 'A cluster and its progress',
    async run(context) {
      const cluster = await context.client.clusters.get(positional(context, 'cluster'));
      context.out.result(cluster, clusterLine(cluster) + (cluster.endpoints.length > 0 ? `\n${cluster.endpoints.join('\n')}` : ''));
    },
  },
  deploy: {
    usage: 'deploy <cluster> [--nodes N] [--version V] [--ttl 4h] [--wait] [--timeout 10m]',
    summary: 'Deploy a cluster',
    options: { nodes: { type: 'string' }, version: { type: 'string' }, ttl: { type: 'string' }, ...waitFlags },
    async run(context) {
      const name = positional(context, 'cluster');
      const nodesText = optionString(context, 'nodes');
      const nodes = nodesText === undefined ? undefined : Number(nodesText);
      if (nodes !== undefined && !(Number.isInteger(nodes) && nodes > 0)) throw new UsageError(`--nodes must be a whole number above 0 (got ${nodesText})`);
      const wait = waitOptions(context);
      const started = await context.client.clusters.deploy(name, { nodes, version: optionString(context, 'version'), ttl: optionString(context, 'ttl') });
      const cluster = await waitIfAsked(context, name, 'running', started, wait);
      context.out.result(cluster, clusterLine(cluster));
    },
  },
  'schedule-destroy': {
    usage: 'schedule-destroy <cluster> (--at 2026-12-01T18:00:00Z | --in 2h)',
    summary: 'Schedule (or move) the destroy of a cluster',
    options: { at: { type: 'string' }, in: { type: 'string' } },
    async run(context) {
      const name = positional(context, 'cluster');
      const at = optionString(context, 'at');
      const inText = optionString(context, 'in');
      if ((at === undefined) === (inText === undefined)) throw new UsageError('give exactly one of --at TIME or --in DURATION');
      const cluster = await context.client.clusters.scheduleDestroy(name, at ? { at } : { in: inText ?? '' });
      context.out.result(cluster, clusterLine(cluster));
    },
  },
  'cancel-destroy': {
    usage: 'cancel-destroy <cluster>',
    summary: 'Cancel the scheduled destroy',
    async run(context) {
      const cluster = await context.client.clusters.cancelDestroy(positional(context, 'cluster'));
      context.out.result(cluster, clusterLine(cluster));
    },
  },
  destroy: {
    usage: 'destroy <cluster> [--wait] [--timeout 10m]',
    summary: 'Destroy a cluster',
    options: waitFlags,
    async run(context) {
      const name = positional(context, 'cluster');
      const wait = waitOptions(context);
      const cluster = await waitIfAsked(context, name, 'absent', await context.client.clusters.destroy(name), wait);
      context.out.result(cluster, clusterLine(cluster));
    },
  },
  access: {
    usage: 'access <cluster>',
    summary: 'Print a cluster JWT (only the token, for $(...) in scripts)',
    async run(context) {
      const token = await context.client.clusters.access(positional(context, 'cluster'));
      context.out.result(token, token.token);
    },
  },
  events: {
    usage: 'events <cluster> [--limit N]',
    summary: 'The audit trail of a cluster, newest first',
    options: { limit: { type: 'string' } },
    async run(context) {
      const limit = Number(optionString(context, 'limit') ?? 25);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 100)) throw new UsageError('--limit must be from 1 to 100');
      const page = await context.client.clusters.events(positional(context, 'cluster'), { limit });
      context.out.result(page.items, page.items.map((e) => `${e.time}  ${e.actor}  ${e.action}  ${e.from} → ${e.to}`).join('\n') || 'No events.');
    },
  },
};
