import type { ProvisionerClient } from '../index.js';
import type { Cluster, ClusterStatus } from '../types.js';
import { type Output, UsageError } from './output.js';

export interface CommandContext {
  client: ProvisionerClient;
  out: Output;
  args: string[];
  options: Record<string, string | boolean | string[] | undefined>;
}

export interface Command {
  usage: string;
  summary: string;
  /** Options beyond the global ones (--json, --help). */
  options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  run(context: CommandContext): Promise<void>;
}

/** The one positional argument a command takes. */
export function positional(context: CommandContext, name: string): string {
  const [value, ...extra] = context.args;
  if (!value) throw new UsageError(`missing <${name}>`);
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  return value;
}

export function optionString(context: CommandContext, name: string): string | undefined {
  const value = context.options[name];
  return typeof value === 'string' ? value : undefined;
}

export function clusterLine(c: Cluster): string {
  const parts = [`${c.name}`, c.status, `${c.nodes} node${c.nodes === 1 ? '' : 's'}`, c.visibility];
  if (c.version) parts.push(`version ${c.version}`);
  if (c.destroy_at) parts.push(`destroy at ${c.destroy_at}`);
  if (c.reason) parts.push(`(${c.reason})`);
  return parts.join('  ');
}

/** `--wait`: polls with a progress line until `target`, within `--timeout` (default 10m). */
export async function waitIfAsked(context: CommandContext, name: string, target: ClusterStatus, current: Cluster): Promise<Cluster> {
  if (!context.options.wait || current.status === target) return current;
  const timeout = optionString(context, 'timeout') ?? '10m';
  const match = /^(\d+)([smh])$/.exec(timeout);
  if (!match) throw new UsageError(`--timeout must be a duration such as 90s, 10m or 1h (got ${timeout})`);
  const timeoutMs = Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
  const intervalMs = Number(process.env.PROVISIONER_POLL_MS ?? 2_000);
  return context.client.clusters.waitFor(name, target, {
    timeoutMs,
    intervalMs,
    onProgress: (c, elapsed) => context.out.progress(`${name}: ${c.status} (${Math.round(elapsed / 1000)} s)`),
  });
}
