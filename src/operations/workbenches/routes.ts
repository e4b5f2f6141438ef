import type { Actor } from '../../actor.js';
import type { Routes } from '../../api/routes.js';
import type { AuthDeps } from '../../deps.js';
import { ProvisionerError } from '../../domain/errors.js';
import { liveStatuses, type WorkbenchState } from '../../domain/workbenches.js';
import { accepted, ok } from '../../http/reply.js';
import type { OperationContext, OperationFn } from '../../http/types.js';
import {
  createWorkbench,
  deleteWorkbench,
  listWorkbenches,
  readWorkbench,
  shareWorkbench,
  startWorkbench,
  stopWorkbench,
  type WorkbenchDeps,
  workbenchView,
} from './use-cases.js';

/** The workbench routes: HTTP in (params, query, body), a use case, HTTP out. Lists and shares need only the store. */
type Deps = AuthDeps & WorkbenchDeps;

const actorOf = (context: OperationContext<unknown>): Actor => ({ caller: context.caller, requestId: context.requestId, log: context.log });
/** A workbench as the caller sees it: `shared` when the caller reached it as a sharee (neither its owner nor an administrator). */
const viewFor = (state: WorkbenchState, { caller }: OperationContext<unknown>) => workbenchView(state, caller.level !== 'administrator' && caller.sub !== state.owner);

export const listRoute: OperationFn<Routes['workbench-list'], AuthDeps> = async ({ query }, context) => {
  const { caller } = context;
  let owner = caller.sub;
  if (query.owner !== undefined && query.owner !== caller.login) {
    if (caller.level !== 'administrator') throw new ProvisionerError('forbidden', 'Only administrators list the workbenches of others; leave out owner.', { field: 'owner' });
    owner = `github:${query.owner}`;
  }
  // One's own list also holds what others shared with one (on its first page).
  const sharee = owner === caller.sub && caller.login !== null && caller.sub.startsWith('github:') ? caller.login : undefined;
  const page = await listWorkbenches(context.deps, owner, query.limit, query.next_token, sharee);
  return ok({ items: page.items.map(({ state, shared }) => workbenchView(state, shared)), ...(page.nextToken && { next_token: page.nextToken }) });
};

export const createRoute: OperationFn<Routes['workbench-create'], Deps> = async ({ body }, context) =>
  accepted(workbenchView(await createWorkbench(context.deps, actorOf(context), body)));

export const getRoute: OperationFn<Routes['workbench-get'], Deps> = async ({ params }, context) =>
  ok(viewFor(await readWorkbench(context.deps, actorOf(context), params.id), context));

export const startRoute: OperationFn<Routes['workbench-start'], Deps> = async ({ params }, context) => {
  const state = await startWorkbench(context.deps, actorOf(context), params.id);
  return state.status === 'running' ? ok(viewFor(state, context)) : accepted(viewFor(state, context));
};

export const stopRoute: OperationFn<Routes['workbench-stop'], Deps> = async ({ params }, context) => {
  const state = await stopWorkbench(context.deps, actorOf(context), params.id);
  return liveStatuses.includes(state.status) || state.status === 'stopping' ? accepted(viewFor(state, context)) : ok(viewFor(state, context));
};

export const deleteRoute: OperationFn<Routes['workbench-delete'], Deps> = async ({ params }, context) =>
  ok(workbenchView(await deleteWorkbench(context.deps, actorOf(context), params.id)));

export const shareRoute: OperationFn<Routes['workbench-share'], AuthDeps> = async ({ params }, context) =>
  ok(workbenchView(await shareWorkbench(context.deps, actorOf(context), params.id, params.login, true)));

export const unshareRoute: OperationFn<Routes['workbench-unshare'], AuthDeps> = async ({ params }, context) =>
  ok(workbenchView(await shareWorkbench(context.deps, actorOf(context), params.id, params.login, false)));
