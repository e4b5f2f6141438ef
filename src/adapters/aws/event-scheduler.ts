import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduledCall, Scheduler, ScheduleTarget } from '../../ports.js';

export interface EventSchedulerOptions {
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke the targets. */
  roleArn: string;
  /** The functions a schedule may invoke; only those this function creates schedules for. */
  targets: Partial<Record<ScheduleTarget, string>>;
}

/** One-time EventBridge Scheduler schedules, in UTC, deleted by the service once they ran. */
export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventSchedulerOptions,
  ) {}

  async schedule(call: ScheduledCall): Promise<void> {
    const target = this.options.targets[call.target];
    if (!target) throw new Error(`This function was given no ARN for ${call.target} schedules.`);
    try {
      await this.client.send(
        new CreateScheduleCommand({
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
      );
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
    }
  }

  async cancel(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
