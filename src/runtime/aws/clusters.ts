import { Ec2ClusterCompute } from '../../adapters/aws/ec2-compute.js';
import { EventBridgeScheduler } from '../../adapters/aws/event-scheduler.js';
import { operationTimeoutSetting, readEnv } from '../../config.js';
import { defaultRules } from '../../domain/clusters.js';
import * as z from '../../zod.js';
import { once } from '../deps.js';

/**
 * EventBridge Scheduler in the stack's group. Each function gets the target ARNs of the schedules
 * it creates (the destroy function cannot be given its own ARN: that would be a cycle).
 */
export const scheduler = once(() => {
  const env = readEnv({
    PROVISIONER_SCHEDULE_GROUP: z.string().check(z.minLength(1)),
    PROVISIONER_SCHEDULER_ROLE_ARN: z.string().check(z.startsWith('arn:')),
    PROVISIONER_DESTROY_TARGET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    PROVISIONER_CHECK_TARGET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  });
  return new EventBridgeScheduler({
    groupName: env.PROVISIONER_SCHEDULE_GROUP,
    roleArn: env.PROVISIONER_SCHEDULER_ROLE_ARN,
    targets: { destroy: env.PROVISIONER_DESTROY_TARGET_ARN, 'check-deadline': env.PROVISIONER_CHECK_TARGET_ARN },
  });
});

export const compute = once(() => new Ec2ClusterCompute());

export const clusterRules = once(() => {
  const { PROVISIONER_OPERATION_TIMEOUT } = readEnv(operationTimeoutSetting);
  return { ...defaultRules, operationTimeoutMs: PROVISIONER_OPERATION_TIMEOUT * 1000 };
});

export const clusterProviders = { scheduler, compute, clusterRules };
