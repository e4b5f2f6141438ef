import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { checkDeadline, type ClusterDeps, scheduledDestroy, sweepClusters } from './use-cases.js';
import { sweepWorkspaces, type WorkspaceDeps } from '../workspaces/use-cases.js';
import { sweepWorkbenches, type WorkbenchDeps } from '../workbenches/use-cases.js';
import { convergeRuns } from '../runs/scheduled.js';
import { type RunDeps, sweepRuns } from '../runs/use-cases.js';
import { stuckItems } from '../admin/overview.js';
import { stuckItemsMetric } from '../../metrics.js';

/** The `destroy` target: a destroy schedule fired. */
export const runScheduledDestroy = (input: TargetInput<'destroy'>, deps: ClusterDeps, actor: Actor) => scheduledDestroy(deps, actor, input.cluster, input.schedule_id);

/** The `check-deadline` target: a deadline came. */
export const runDeadlineCheck = async (input: TargetInput<'check-deadline'>, deps: ClusterDeps, actor: Actor) =>
  (await checkDeadline(deps, actor, input.cluster, input.check_id)).status;

/** The `janitor` target: re-examine every cluster, remove what no active deployment owns. */
export const runSweep = async (_input: TargetInput<'janitor'>, deps: ClusterDeps & WorkspaceDeps & WorkbenchDeps & Pick<RunDeps, 'runMachines'>, actor: Actor) => {
  const { examined, swept } = await sweepClusters(deps, actor);
  const workspaces = await sweepWorkspaces(deps, actor);
  const workbenches = await sweepWorkbenches(deps, actor);
  // runs: those a crash left unfinished converge (where the runner can be asked: the local one),
  // and machines whose run ended are stopped (a cleanup a fault interrupted)
  const convergedRuns = await convergeRuns(deps, actor);
  const runs = await sweepRuns(deps, actor);
  // What is still stuck after the pass: the StuckItems alarm fires while it is above 0.
  const stuck = (await stuckItems(deps)).length;
  stuckItemsMetric(stuck);
  return { examined, stuck, swept: swept.map((s) => s.deploymentId), workspaces, workbenches, convergedRuns, runs };
};
