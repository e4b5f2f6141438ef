import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { autoStop, type WorkbenchDeps } from './use-cases.js';

/** The `workbench-auto-stop` target: a run reached the catalog's max_runtime. */
export const runAutoStop = (input: TargetInput<'workbench-auto-stop'>, deps: WorkbenchDeps, actor: Actor) => autoStop(deps, actor, input.workbench, input.stop_id);
