import { Ec2ClusterCompute } from '../../adapters/aws/ec2-compute.js';
import { EventBridgeScheduler } from '../../adapters/aws/event-scheduler.js';
import { operationTimeoutSetting, readEnv } from '../../config.js';
import { defaultRules } from '../../domain/clusters.js';
import { scheduleTargetNames, targetArnVariable } from '../../scheduling/targets.js';
import * as z from '../../zod.js';
import { once } from '../../once.js';
import { managedBy } from './settings.js';
import { store } from './store.js';

/**
 * EventBridge Scheduler in the stack's group. Each function gets the ARNs of the schedule targets
 * it creates, one variable per target of the table (the destroy function cannot be given its own
 * ARN: that would be a cycle).
 */
export const scheduler = once(() => {
  const env = readEnv({
    PROVISIONER_SCHEDULE_GROUP: z.string().check(z.minLength(1)),
    PROVISIONER_SCHEDULER_ROLE_ARN: z.string().check(z.startsWith('arn:')),
    PROVISIONER_DEAD_LETTER_ARN: z.string().check(z.startsWith('arn:')),
  });
  const arn = z.optional(z.string().check(z.startsWith('arn:')));
  const targets = Object.fromEntries(scheduleTargetNames.map((target) => [target, readEnv({ [targetArnVariable(target)]: arn })[targetArnVariable(target)]]));
  return new EventBridgeScheduler({ groupName: env.PROVISIONER_SCHEDULE_GROUP, roleArn: env.PROVISIONER_SCHEDULER_ROLE_ARN, targets, deadLetterArn: env.PROVISIONER_DEAD_LETTER_ARN });
});

/** A read reuses a deployment's status for 5 s in a warm container: a burst of reads of a deploying cluster asks EC2 once. */
export const compute = once(() => new Ec2ClusterCompute(managedBy(), { table: store(), statusCacheMs: 5_000 }));

/** The EC2 backend also tells which cluster an instance belongs to, from the table (drift events name only the instance). */
export const machineOwners = compute;

export const clusterRules = once(() => {
  const { PROVISIONER_OPERATION_TIMEOUT } = readEnv(operationTimeoutSetting());
  return { ...defaultRules, operationTimeoutMs: PROVISIONER_OPERATION_TIMEOUT * 1000 };
});

export const clusterProviders = { scheduler, compute, clusterRules };
