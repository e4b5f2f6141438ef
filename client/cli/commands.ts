import { durationRule, parseDuration } from '../../src/domain/duration.js';
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
  /** Resolves to the exit code when the command sets its own (a report that failed); exit 0 otherwise. */
  run(context: CommandContext): Promise<void | number>;
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

/**
 * `--wait [--timeout 10m]`, read before the command sends anything: a bad timeout must not be found
 * after the deploy it was meant to bound. Undefined without --wait; `defaultTimeout` without --timeout. A bare number is refused, since
 * "10" could mean seconds or minutes.
 */
export function waitOptions(context: CommandContext, defaultTimeout = '10m'): { timeoutMs: number } | undefined {
  const timeout = optionString(context, 'timeout');
  if (!context.options.wait) {
    if (timeout !== undefined) throw new UsageError('--timeout needs --wait (it bounds the wait)');
    return undefined;
  }
  const text = timeout ?? defaultTimeout;
  const timeoutMs = parseDuration(text);
  if (timeoutMs === undefined) throw new UsageError(`--timeout ${durationRule} (got ${text})`);
  return { timeoutMs };
}

/** Polls with a progress line until `target`, within the `--timeout` of `wait`; returns `current` without `--wait`. */
export async function waitIfAsked(context: CommandContext, name: string, target: ClusterStatus, current: Cluster, wait: { timeoutMs: number } | undefined): Promise<Cluster> {
  if (!wait || current.status === target) return current;
  const intervalMs = Number(process.env.PROVISIONER_POLL_MS ?? 2_000);
  return context.client.clusters.waitFor(name, target, {
    timeoutMs: wait.timeoutMs,
    intervalMs,
    onProgress: (c, elapsed) => context.out.progress(`${name}: ${c.status} (${Math.round(elapsed / 1000)} s)`),
  });
}
