import type { Actor } from '../../actor.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { type WorkspaceDeps, workspaceTimer } from './use-cases.js';

/** The `workspace-timer` target: a workspace's expiry, notice or cleanup schedule fired. */
export const runWorkspaceTimer = (input: TargetInput<'workspace-timer'>, deps: WorkspaceDeps, actor: Actor) => workspaceTimer(deps, actor, input);
