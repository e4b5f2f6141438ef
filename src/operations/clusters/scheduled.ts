import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { checkDeadline, type ClusterDeps, scheduledDestroy } from './use-cases.js';

/** The `destroy` target: a destroy schedule fired. */
export const runScheduledDestroy = (input: TargetInput<'destroy'>, deps: ClusterDeps, actor: Actor) => scheduledDestroy(deps, actor, input.cluster, input.schedule_id);

/** The `check-deadline` target: a deadline came. */
export const runDeadlineCheck = async (input: TargetInput<'check-deadline'>, deps: ClusterDeps, actor: Actor) =>
  (await checkDeadline(deps, actor, input.cluster, input.check_id)).status;
