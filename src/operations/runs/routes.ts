import type { Routes } from '../../api/routes.js';
import type { AuthDeps } from '../../deps.js';
import { accepted, ok } from '../../http/reply.js';
import type { OperationContext, OperationFn } from '../../http/types.js';
import type { Actor } from '../../actor.js';
import { cancelRun, listRuns, readRun, type RunDeps, type RunReadDeps, runView, startRun, type StartRunDeps } from './use-cases.js';

/** The run routes: HTTP in, a use case, HTTP out. */
const actorOf = (context: OperationContext<unknown>): Actor => ({ caller: context.caller, requestId: context.requestId, log: context.log });

export const startTest: OperationFn<Routes['test-runner'], AuthDeps & StartRunDeps> = async ({ params, body }, context) =>
  accepted(await runView(context.deps, await startRun(context.deps, actorOf(context), 'test', params.cluster, body.version)));

export const startRelease: OperationFn<Routes['release'], AuthDeps & StartRunDeps> = async ({ params, body }, context) =>
  accepted(await runView(context.deps, await startRun(context.deps, actorOf(context), 'release', params.cluster, body.version)));

export const getRun: OperationFn<Routes['get-run'], AuthDeps & RunReadDeps> = async ({ params }, context) =>
  ok(await runView(context.deps, await readRun(context.deps, actorOf(context), params.id)));

export const listRunsRoute: OperationFn<Routes['list-runs'], AuthDeps & RunReadDeps> = async ({ query }, context) => {
  const { cluster, kind, status } = query;
  const page = await listRuns(context.deps, actorOf(context), { cluster, kind, status }, query.limit, query.next_token);
  const items = await Promise.all(page.items.map((state) => runView(context.deps, state)));
  return ok({ items, ...(page.nextToken && { next_token: page.nextToken }) });
};

export const cancelRunRoute: OperationFn<Routes['cancel-run'], AuthDeps & RunDeps> = async ({ params }, context) =>
  ok(await runView(context.deps, await cancelRun(context.deps, actorOf(context), params.id)));
