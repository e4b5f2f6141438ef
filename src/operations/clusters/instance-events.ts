import type { Context } from 'aws-lambda';
import { dependencies, type Providers } from '../../deps.js';
import { systemCaller } from '../../domain/levels.js';
import { requestLog } from '../../log.js';
import type { MachineOwners } from '../../ports.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';
import { type ClusterDeps, recordDrift } from './use-cases.js';

/** The EC2 states that mean a node no longer serves: the EventBridge rule sends only these. */
export const lostStates = ['stopping', 'stopped', 'shutting-down', 'terminated'] as const;

/** EventBridge's EC2 instance state-change event, as far as drift needs it. */
const instanceStateEvent = once(() =>
  z.object({
    source: z.literal('aws.ec2'),
    'detail-type': z.literal('EC2 Instance State-change Notification'),
    detail: z.object({ 'instance-id': z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/)), state: z.enum(lostStates) }),
  }),
);

export type DriftDeps = Pick<ClusterDeps, 'store' | 'clock' | 'catalog' | 'scheduler'> & { machineOwners: MachineOwners };

/**
 * The handler of the EventBridge rule on EC2 instance state changes (not an HTTP route): finds the
 * instance's cluster and deployment in the instance map its launch wrote (no EC2 read: the rule sends
 * every instance of the region) and records drift, which degrades the cluster only if it is running
 * that deployment. Events of other instances are skipped; a failure of the store throws, so
 * EventBridge retries.
 */
export function instanceStateHandler(providers: Providers<DriftDeps>) {
  const resolveDeps = dependencies(providers);
  return async (event: unknown, context?: Pick<Context, 'awsRequestId'>): Promise<{ ignored: string } | { cluster: string; status: string }> => {
    const requestId = context?.awsRequestId ?? crypto.randomUUID();
    const log = requestLog(requestId, 'instance-state');
    const parsed = instanceStateEvent().safeParse(event);
    if (!parsed.success) {
      log.error('not an EC2 state change the rule sends; ignored', { issues: parsed.error.issues.map((i) => i.message) });
      return { ignored: 'not an instance state change' };
    }
    const { 'instance-id': instance, state } = parsed.data.detail;
    const deps = await resolveDeps();
    const owner = await deps.machineOwners.ownerOf(instance);
    if (!owner) return { ignored: `${instance} is not a cluster instance` };
    const reason = `instance ${instance} is ${state}`;
    const cluster = await recordDrift(deps, { caller: systemCaller('system'), requestId, log }, { ...owner, reason });
    // Its last event, once recorded: a repeat of it (at least once delivery) then costs one GetItem.
    if (state === 'terminated') await deps.machineOwners.forget(instance);
    if (!cluster) return { ignored: `${owner.cluster} is not in the catalog` };
    log.info('instance state change', { cluster: owner.cluster, deployment_id: owner.deploymentId, instance, state, status: cluster.status });
    return { cluster: owner.cluster, status: cluster.status };
  };
}
