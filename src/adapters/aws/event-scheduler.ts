import type * as SchedulerModule from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduledCall, Scheduler } from '../../ports.js';
import type { ScheduleTarget } from '../../scheduling/targets.js';
import { guarded } from './failures.js';

export interface EventSchedulerOptions {
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke the targets. */
  roleArn: string;
  /** The functions a schedule may invoke; only those this function creates schedules for. */
  targets: Partial<Record<ScheduleTarget, string>>;
}

type SchedulerSdk = typeof SchedulerModule;

/** Scheduler throttling, 5xx and timeouts answer 503 `dependency_unavailable`; an existing or missing schedule is the caller's to judge. */
const schedulerCall = <T>(call: () => Promise<T>) => guarded('EventBridge Scheduler', call);

/**
 * One-time EventBridge Scheduler schedules, in UTC, deleted by the service once they ran. The client
 * module is imported on first use: reads of a cluster rarely need it.
 */
export class EventBridgeScheduler implements Scheduler {
  private loaded?: Promise<{ sdk: SchedulerSdk; client: SchedulerClient }>;

  constructor(
    private readonly options: EventSchedulerOptions,
    private readonly makeClient: (sdk: SchedulerSdk) => SchedulerClient = (sdk) => new sdk.SchedulerClient({}),
  ) {}

  private scheduler() {
    this.loaded ??= import('@aws-sdk/client-scheduler').then((sdk) => ({ sdk, client: this.makeClient(sdk) }));
    return this.loaded;
  }

  async schedule(call: ScheduledCall): Promise<void> {
    const target = this.options.targets[call.target];
    if (!target) throw new Error(`This function was given no ARN for ${call.target} schedules.`);
    const { sdk, client } = await this.scheduler();
    try {
      await schedulerCall(() =>
        client.send(
          new sdk.CreateScheduleCommand({
            Name: call.name,
            GroupName: this.options.groupName,
            ScheduleExpression: `at(${call.at.toISOString().slice(0, 19)})`,
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: {
              Arn: target,
              RoleArn: this.options.roleArn,
              Input: JSON.stringify(call.payload),
              RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
            },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof sdk.ConflictException)) throw error;
    }
  }

  async cancel(name: string): Promise<void> {
    const { sdk, client } = await this.scheduler();
    try {
      await schedulerCall(() => client.send(new sdk.DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName })));
    } catch (error) {
      if (!(error instanceof sdk.ResourceNotFoundException)) throw error;
    }
  }
}
