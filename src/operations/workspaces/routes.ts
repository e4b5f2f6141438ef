import type { Actor } from '../../actor.js';
import type { Routes } from '../../api/routes.js';
import type { AuthDeps } from '../../deps.js';
import type { WorkspaceStatus } from '../../domain/workspaces.js';
import { accepted, ok } from '../../http/reply.js';
import { trailPage } from '../trail.js';
import type { OperationContext, OperationFn } from '../../http/types.js';
import {
  createWorkspace,
  deleteWorkspace,
  extendWorkspace,
  listWorkspaces,
  readWorkspace,
  type WorkspaceDeps,
  workspaceExpiry,
  workspaceTrail,
  workspaceView,
} from './use-cases.js';

/** The workspace routes: HTTP in (params, query, body), a use case, HTTP out. */
type Deps = AuthDeps & WorkspaceDeps;

const actorOf = (context: OperationContext<unknown>): Actor => ({ caller: context.caller, requestId: context.requestId, log: context.log });

export const createWorkspaceRoute: OperationFn<Routes['workspace-create'], Deps> = async ({ body }, context) => {
  const state = await createWorkspace(context.deps, actorOf(context), body);
  return accepted(workspaceView(state, context.deps.clock.now()));
};

export const listWorkspacesRoute: OperationFn<Routes['workspace-list'], AuthDeps> = async ({ query }, context) => {
  const page = await listWorkspaces(context.deps, actorOf(context), query.limit, query.next_token);
  const now = context.deps.clock.now();
  return ok({ items: page.items.map((state) => workspaceView(state, now)), ...(page.nextToken && { next_token: page.nextToken }) });
};

export const getWorkspaceRoute: OperationFn<Routes['workspace-get'], Deps> = async ({ params }, context) => {
  const state = await readWorkspace(context.deps, actorOf(context), params.id);
  return ok(workspaceView(state, context.deps.clock.now()));
};

export const workspaceExpiredRoute: OperationFn<Routes['workspace-expired'], AuthDeps> = async ({ params }, context) =>
  ok(await workspaceExpiry(context.deps, actorOf(context), params.id));

export const updateWorkspaceRoute: OperationFn<Routes['workspace-update'], Deps> = async ({ params, body }, context) => {
  const state = await extendWorkspace(context.deps, actorOf(context), params.id, body.expiry);
  return ok(workspaceView(state, context.deps.clock.now()));
};

export const deleteWorkspaceRoute: OperationFn<Routes['workspace-delete'], Deps> = async ({ params }, context) => {
  const state = await deleteWorkspace(context.deps, actorOf(context), params.id);
  return accepted(workspaceView(state, context.deps.clock.now()));
};

export const workspaceEventsRoute: OperationFn<Routes['workspace-events'], AuthDeps> = async ({ params, query }, context) => {
  const page = await workspaceTrail(context.deps, actorOf(context), params.id, query.limit, query.next_token);
  return ok(trailPage<WorkspaceStatus>(page));
};
