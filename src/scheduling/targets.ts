import { once } from '../once.js';
import * as z from '../zod.js';
// workspaces
import { workspaceTimers } from '../domain/workspaces.js';
// notifications
import { notificationEvents, notifiedKinds } from '../domain/notifications.js';

/**
 * THE table of timed actions: what a one-time schedule may run, the input it carries and the Lambda
 * (folder under `lambdas/`) that runs it. It drives the `ScheduleTarget` type, the target ARNs each
 * AWS function is given, the local scheduler's dispatch and the CDK schedule group and role. A new
 * timed action is one entry here, its function's handler, and an `operationAccess` line saying who
 * creates it. Each input schema is built when its function first needs it.
 */
export const scheduleTargets = {
  /** A cluster's destroy schedule fired: destroy it, unless the schedule was replaced since. */
  destroy: {
    lambda: 'destroy',
    input: once(() => z.object({ cluster: z.string(), schedule_id: z.string() })),
  },
  /** A deploy's or a destroy's deadline came: ask the backend, fail what is late. */
  'check-deadline': {
    lambda: 'check-deadline',
    input: once(() => z.object({ cluster: z.string(), check_id: z.string() })),
  },
  /** Every hour: re-examine every cluster and remove backend resources no active deployment owns. */
  janitor: {
    lambda: 'janitor',
    input: once(() => z.object({})),
    /** A standing schedule the stack creates (EventBridge Scheduler's expression), not one the functions make. */
    every: 'rate(1 hour)',
  },
  // workspaces
  /** A workspace's timer fired: delete it at its expiry or after it failed, or record the expiry notice; replaced timers do nothing. */
  'workspace-timer': {
    lambda: 'workspace-expire',
    input: once(() => z.object({ workspace: z.string(), timer: z.enum(workspaceTimers), schedule_id: z.string() })),
  },
  // workbenches
  /** A workbench ran for the catalog's max_runtime: stop it, unless it was stopped or started again since. */
  'workbench-auto-stop': {
    lambda: 'workbench-stop',
    input: once(() => z.object({ workbench: z.string(), stop_id: z.string() })),
  },
  // runs
  /** A run's time limit came: a run still going is timed out and its machine terminated. */
  'run-timeout': {
    lambda: 'run-timeout',
    input: once(() => z.object({ run_id: z.string() })),
  },
  // notifications
  /**
   * Deliver a notification to the webhooks that asked for its event: at once (scheduled for now by
   * the use case that saw the event) or as a reminder, which does something only while the item still
   * records `guard.value` in `guard.field` (a moved or cancelled expiry leaves it stale).
   */
  notify: {
    lambda: 'notify',
    input: once(() =>
      z.object({
        delivery: z.string(),
        notification: z.object({
          event: z.enum(notificationEvents),
          kind: z.enum(notifiedKinds),
          id: z.string(),
          text: z.string(),
          name: z.optional(z.string()),
          owner: z.optional(z.string()),
          at: z.optional(z.string()),
          details: z.optional(z.record(z.string(), z.unknown())),
        }),
        guard: z.optional(z.object({ field: z.string(), value: z.string(), statuses: z.array(z.string()) })),
      }),
    ),
  },
} as const;

export type ScheduleTarget = keyof typeof scheduleTargets;
export type TargetInput<T extends ScheduleTarget> = z.output<ReturnType<(typeof scheduleTargets)[T]['input']>>;
export const scheduleTargetNames = Object.keys(scheduleTargets) as ScheduleTarget[];

/** The environment variable that hands a function the ARN of a target it schedules. */
export function targetArnVariable(target: ScheduleTarget): string {
  return `PROVISIONER_TARGET_${target.toUpperCase().replace(/-/g, '_')}_ARN`;
}
