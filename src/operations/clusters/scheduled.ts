import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { checkDeadline, type ClusterDeps, scheduledDestroy, sweepClusters } from './use-cases.js';
// runs
import { type RunDeps, sweepRuns } from '../runs/use-cases.js';

/** The `destroy` target: a destroy schedule fired. */
export const runScheduledDestroy = (input: TargetInput<'destroy'>, deps: ClusterDeps, actor: Actor) => scheduledDestroy(deps, actor, input.cluster, input.schedule_id);

/** The `check-deadline` target: a deadline came. */
export const runDeadlineCheck = async (input: TargetInput<'check-deadline'>, deps: ClusterDeps, actor: Actor) =>
  (await checkDeadline(deps, actor, input.cluster, input.check_id)).status;

/** The `janitor` target: re-examine every cluster, remove what no active deployment owns. */
export const runSweep = async (_input: TargetInput<'janitor'>, deps: ClusterDeps & Pick<RunDeps, 'runMachines'>, actor: Actor) => {
  const { examined, swept } = await sweepClusters(deps, actor);
  // runs: machines whose run ended (a cleanup a fault interrupted)
  const runs = await sweepRuns(deps, actor);
  return { examined, swept: swept.map((s) => s.deploymentId), runs };
};
