import type * as SchedulerModule from '@aws-sdk/client-scheduler';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { type Clock, systemClock } from '../../domain/clock.js';
import type { ScheduledCall, Scheduler } from '../../ports.js';
import type { ScheduleTarget } from '../../scheduling/targets.js';
import { guarded } from './failures.js';

export interface EventSchedulerOptions {
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke the targets. */
  roleArn: string;
  /** The functions a schedule may invoke; only those this function creates schedules for. */
  targets: Partial<Record<ScheduleTarget, string>>;
  /** The SQS queue a firing goes to once the Scheduler gave up delivering it (the stack's dead letters; the stack always sets it). */
  deadLetterArn?: string;
  /** What "now" is when a time turns out past (default: the system's). */
  clock?: Clock;
}

type SchedulerSdk = typeof SchedulerModule;

/** Scheduler throttling, 5xx and timeouts answer 503 `dependency_unavailable`; an existing or missing schedule is the caller's to judge. */
const schedulerCall = <T>(call: () => Promise<T>) => guarded('EventBridge Scheduler', call);

const minuteMs = 60_000;
/** How far ahead a retry asks: the Scheduler refuses an `at()` that is past by the time it reads it. */
const minimumLeadMs = 10_000;

/**
 * The whole minute at or after `at`. EventBridge Scheduler fires with one-minute precision, up to
 * 60 s before the time asked; asking for the minute at or after `at` keeps every firing within 60 s
 * before `at`, inside the handlers' 90 s tolerance, and never later than a minute after it.
 */
export function roundUpToMinute(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / minuteMs) * minuteMs);
}

/** `at(yyyy-mm-ddThh:mm:ss)`, read in UTC. */
const atExpression = (minute: Date) => `at(${minute.toISOString().slice(0, 19)})`;

/**
 * One-time EventBridge Scheduler schedules, in UTC, deleted by the service once they ran, retried
 * and then dead-lettered when their target cannot be invoked. The client module is imported on
 * first use: reads of a cluster rarely need it.
 */
export class EventBridgeScheduler implements Scheduler {
  private loaded?: Promise<{ sdk: SchedulerSdk; client: SchedulerClient }>;
  private readonly clock: Clock;

  constructor(
    private readonly options: EventSchedulerOptions,
    private readonly makeClient: (sdk: SchedulerSdk) => SchedulerClient = (sdk) => new sdk.SchedulerClient({}),
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private scheduler() {
    this.loaded ??= import('@aws-sdk/client-scheduler').then((sdk) => ({ sdk, client: this.makeClient(sdk) }));
    return this.loaded;
  }

  async schedule(call: ScheduledCall): Promise<void> {
    const target = this.options.targets[call.target];
    if (!target) throw new Error(`This function was given no ARN for ${call.target} schedules.`);
    const { sdk, client } = await this.scheduler();
    const create = (minute: Date) =>
      schedulerCall(() =>
        client.send(
          new sdk.CreateScheduleCommand({
            Name: call.name,
            GroupName: this.options.groupName,
            ScheduleExpression: atExpression(minute),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: {
              Arn: target,
              RoleArn: this.options.roleArn,
              Input: JSON.stringify(call.payload),
              RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
              ...(this.options.deadLetterArn && { DeadLetterConfig: { Arn: this.options.deadLetterArn } }),
            },
          }),
        ),
      );
    const minute = roundUpToMinute(call.at);
    try {
      await create(minute);
    } catch (error) {
      if (error instanceof sdk.ConflictException) return;
      // AWS refuses an at() already past (or about to be: a slow call, a late retry): the call is due, so the next minute fires it.
      const next = roundUpToMinute(new Date(this.clock.now().getTime() + minimumLeadMs));
      if (!(error instanceof sdk.ValidationException) || next.getTime() <= minute.getTime()) throw error;
      await create(next).catch((retryError: unknown) => {
        if (!(retryError instanceof sdk.ConflictException)) throw retryError;
      });
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
