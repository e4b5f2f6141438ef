import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { convergeRun, type RunDeps, timeOutRun, unfinishedRuns } from './use-cases.js';

/** The `run-timeout` target: a run's time limit came. */
export const runTimeout = (input: TargetInput<'run-timeout'>, deps: RunDeps, actor: Actor) => timeOutRun(deps, actor, input.run_id);

/**
 * The janitor's sweep of runs (at every local start, and hourly): each run not ended converges on
 * what its runner finds of its machine. Only a runner that can be asked takes part (the local one);
 * in AWS the S3 event and the run's timeout end every run.
 */
export async function convergeRuns(deps: Omit<RunDeps, 'runMachines' | 'runLogs'> & Partial<Pick<RunDeps, 'runMachines' | 'runLogs'>>, actor: Actor) {
  const { runMachines, runLogs } = deps;
  if (!runMachines?.inspect || !runLogs) return { examined: 0, ended: [] };
  const runDeps: RunDeps = { ...deps, runMachines, runLogs };
  let examined = 0;
  const ended: string[] = [];
  for await (const run of unfinishedRuns(runDeps)) {
    examined++;
    const status = await convergeRun(runDeps, actor, run, await runMachines.inspect(run.id));
    if (status !== run.status) ended.push(`${run.id}:${status}`);
  }
  return { examined, ended };
}
