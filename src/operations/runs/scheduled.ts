import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { type RunDeps, timeOutRun } from './use-cases.js';

/** The `run-timeout` target: a run's time limit came. */
export const runTimeout = (input: TargetInput<'run-timeout'>, deps: RunDeps, actor: Actor) => timeOutRun(deps, actor, input.run_id);
