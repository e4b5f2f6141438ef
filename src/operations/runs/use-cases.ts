import { randomUUID } from 'node:crypto';
import type { Actor } from '../../actor.js';
import { planFor } from '../../domain/catalog/runs.js';
import { inClusterScope, requireClusterScope } from '../../domain/api-tokens.js';
import { clusterNamed } from '../../domain/clusters.js';
import { ProvisionerError } from '../../domain/errors.js';
import { operationDuration } from '../../metrics.js';
import { systemCaller } from '../../domain/levels.js';
import {
  authorizeRuns,
  decideCancelRun,
  decideStart,
  isFinished,
  outcomeOf,
  type RunKind,
  runKeys,
  runKinds,
  runNotFound,
  type RunResult,
  type RunState,
  runStatuses,
  stepStatuses,
  unknownRun,
} from '../../domain/runs.js';
import type { Deps } from '../../deps.js';
import type { Page, RunMachineState } from '../../ports.js';
import { type Change, Entities, type EntityType } from '../../store/entity.js';
import { runListKeys } from '../../store/keys.js';
import { signClusterToken } from '../../tokens/tokens.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';
// notifications
import { runFailed } from '../notifications/events.js';
import { type ClusterDeps, readCluster } from '../clusters/use-cases.js';

/**
 * The run use cases: TEST and RELEASE start a run (one write, then its timeout schedule and its
 * machine); the result, the timeout or a cancel end it (one write, then the machine is stopped).
 */
export type RunDeps = Pick<Deps, 'store' | 'clock' | 'catalog' | 'scheduler' | 'runLogs' | 'runMachines'>;
/** Reading runs: the store and the log bucket (for the presigned log link). */
export type RunReadDeps = Pick<Deps, 'store' | 'clock' | 'runLogs'>;
/** Starting a TEST also reads the cluster and signs a cluster JWT for the tests. */
export type StartRunDeps = RunDeps & ClusterDeps & Pick<Deps, 'keyRing' | 'tokenSettings'>;

const stepResult = once(() =>
  z.object({
  name: z.string(),
  status: z.enum(stepStatuses),
  seconds: z.number(),
  exit_code: z.optional(z.number()),
  }),
);

const runEntity: EntityType<RunState> = {
  kind: 'run',
  initial: unknownRun,
  fields: once(() =>
    z.object({
      id: z.string(),
      status: z.enum(runStatuses),
      kind: z.optional(z.enum(runKinds)),
      cluster: z.optional(z.string()),
      ref: z.optional(z.string()),
      plan: z.optional(z.string()),
      created_by: z.optional(z.string()),
      created_at: z.optional(z.string()),
      deadline: z.optional(z.string()),
      timeout_id: z.optional(z.string()),
      machine: z.optional(z.string()),
      writer: z.optional(z.string()),
      steps: z.optional(z.array(stepResult())),
      failed_step: z.optional(z.string()),
      reason: z.optional(z.string()),
      finished_at: z.optional(z.string()),
      updated_at: z.optional(z.string()),
    }),
  ),
};

const runsOf = (deps: Pick<Deps, 'store' | 'clock'>) => new Entities(deps.store, runEntity, deps.clock);

type RunChange = Partial<Record<keyof Omit<RunState, 'version'> | 'gsi1pk' | 'gsi1sk', unknown>>;

function change(actor: Actor, action: string, set: RunChange, details?: Record<string, unknown>): Change {
  return { set, action, author: { sub: actor.caller.sub, requestId: actor.requestId }, ...(details && { details }) };
}

/** The timeout schedule of a run (EventBridge names: at most 64 characters). */
const timeoutName = (id: string) => `run-${id}`;

/** How long a `log_url` may be used. */
export const logUrlSeconds = 15 * 60;

/** TEST or RELEASE: a queued run, its timeout schedule, then its machine (or `failed` when the cloud refuses one). */
export async function startRun(deps: StartRunDeps, actor: Actor, kind: RunKind, clusterName: string, ref: string): Promise<RunState> {
  authorizeRuns(actor.caller);
  const cluster = clusterNamed(deps.catalog, clusterName);
  requireClusterScope(actor.caller, cluster.name);
  const resolved = planFor(deps.catalog.runs, kind, cluster.name);
  const clusterState = kind === 'test' ? await readCluster(deps, actor, cluster) : undefined;
  decideStart(kind, ref, cluster.name, clusterState?.status ?? 'absent');
  const now = deps.clock.now();
  const id = randomUUID();
  const deadline = new Date(now.getTime() + resolved.timeLimitMs);
  const env: Record<string, string> = { RUN_CLUSTER: cluster.name };
  const secretEnv: Record<string, string> = {};
  if (kind === 'test') {
    // A fresh cluster JWT for the tests, as long-lived as the run may be.
    const issued = await signClusterToken(await deps.keyRing.signingKey(), cluster.name, actor.caller, {
      issuer: deps.tokenSettings.issuer,
      ttlSeconds: Math.ceil(resolved.timeLimitMs / 1000),
      now,
    });
    env.CLUSTER_URL = clusterState?.endpoints?.[0] ?? '';
    secretEnv.CLUSTER_TOKEN = issued.token;
  }
  const runs = runsOf(deps);
  const set: RunChange = {
    id,
    status: 'queued',
    kind,
    cluster: cluster.name,
    ref,
    plan: resolved.name,
    created_by: actor.caller.sub,
    created_at: now.toISOString(),
    deadline: deadline.toISOString(),
    gsi1pk: runListKeys.all,
    gsi1sk: runListKeys.order(now.toISOString(), id),
  };
  const queued = await runs.commit(id, unknownRun(id), change(actor, kind, set, { cluster: cluster.name, version: ref, plan: resolved.name }));
  if (!queued) throw new ProvisionerError('service_unavailable', 'The run could not be recorded; retry.', undefined, { 'retry-after': '1' });
  actor.log.info('run queued', { run: id, kind, cluster: cluster.name, ref });
  await deps.scheduler.schedule({ name: timeoutName(id), at: deadline, target: 'run-timeout', payload: { run_id: id } });
  let outcome;
  try {
    outcome = await deps.runMachines.launch({
      runId: id,
      script: { runId: id, ref, repository: resolved.plan.repository, steps: resolved.plan.steps, env, secretEnv },
      instanceType: resolved.instanceType,
      amiParameter: resolved.amiParameter,
      timeLimitMs: resolved.timeLimitMs,
      volumeGb: resolved.volumeGb,
    });
  } catch (error) {
    await end(deps, actor, id, 'failed', `the runner could not start: ${(error as Error).message}`);
    throw new ProvisionerError('backend_unavailable', 'The runner could not start the run; retry shortly.', { run_id: id }, { 'retry-after': '30' });
  }
  if ('refused' in outcome) return end(deps, actor, id, 'failed', outcome.refused);
  return recordMachine(deps, actor, id, outcome);
}

/**
 * A queued run's machine started: `running` with its writer. A run that ended meanwhile (a cancel,
 * its time limit) stays ended, and the machine it no longer wants goes.
 */
async function recordMachine(deps: RunDeps, actor: Actor, id: string, { machine, writer }: { machine: string; writer: string }): Promise<RunState> {
  return runsOf(deps).update<RunState>(id, async (state) => {
    if (state.status !== 'queued') {
      await deps.runMachines.stop(id, machine);
      return { done: state };
    }
    return { from: state, change: change(actor, 'start', { status: 'running', machine, writer }, { machine, writer }), after: async (running) => running };
  });
}

/**
 * Ends a run that has not ended (cancelled, timed out, failed to start), then stops its machine and
 * timeout. The ending is recorded first; a cleanup that a failing dependency interrupts is logged
 * and left to the janitor's sweep (`sweepRuns`), so its error never replaces the caller's answer.
 */
async function end(deps: RunDeps, actor: Actor, id: string, status: 'failed' | 'timed_out' | 'cancelled', reason: string): Promise<RunState> {
  const runs = runsOf(deps);
  return runs.update<RunState>(id, async (state) => {
    if (state.version === 0) throw runNotFound(id);
    if (isFinished(state.status)) return { done: state };
    return {
      from: state,
      change: change(actor, status, { status, reason, finished_at: deps.clock.now().toISOString() }, { reason }),
      after: async (ended) => {
        actor.log.info('run ended', { run: id, status, reason });
        operationDuration('run', ended.created_at, deps.clock.now(), status);
        if (status !== 'cancelled') await runFailed(deps, actor, ended);
        try {
          await cleanUp(deps, ended);
        } catch (error) {
          if (!(error instanceof ProvisionerError && error.code === 'dependency_unavailable')) throw error;
          actor.log.warn('run ended; its machine is left to the janitor', { run: id, error: error.message });
        }
        return ended;
      },
    };
  });
}

/** The machine and the timeout schedule go once a run has ended. */
async function cleanUp(deps: RunDeps, state: RunState): Promise<void> {
  await Promise.all([deps.runMachines.stop(state.id, state.machine), deps.scheduler.cancel(timeoutName(state.id))]);
}

/**
 * The janitor's part for runs: every run machine still alive whose run ended (or was never
 * recorded) is stopped, whatever interrupted its cleanup. Returns the runs swept.
 */
export async function sweepRuns(deps: Pick<Deps, 'store' | 'clock' | 'runMachines'>, actor: Actor): Promise<string[]> {
  const machines = (await deps.runMachines.alive?.()) ?? [];
  const runs = runsOf(deps);
  const swept: string[] = [];
  for (const { runId, machine } of machines) {
    const state = await runs.load(runId);
    if (state.version !== 0 && !isFinished(state.status)) continue;
    actor.log.info('run machine outlived its run; stopping it', { run: runId, machine, status: state.status });
    await deps.runMachines.stop(runId, machine);
    swept.push(runId);
  }
  return swept;
}

/** A run the caller may read: 404 when there is none. */
export async function readRun(deps: RunReadDeps, actor: Actor, id: string): Promise<RunState> {
  authorizeRuns(actor.caller);
  const state = await runsOf(deps).load(id);
  if (state.version === 0) throw runNotFound(id);
  requireClusterScope(actor.caller, state.cluster);
  return state;
}

/** Runs newest first; the filters apply within each page of the list (a Query, never a Scan). */
export async function listRuns(
  deps: RunReadDeps,
  actor: Actor,
  filter: { cluster?: string; kind?: RunKind; status?: RunState['status'] },
  limit: number,
  nextToken?: string,
): Promise<Page<RunState>> {
  authorizeRuns(actor.caller);
  const page = await runsOf(deps).list(runListKeys.all, limit, nextToken);
  const items = page.items.filter(
    (run) => inClusterScope(actor.caller, run.cluster) && (!filter.cluster || run.cluster === filter.cluster) && (!filter.kind || run.kind === filter.kind) && (!filter.status || run.status === filter.status),
  );
  return { items, ...(page.nextToken && { nextToken: page.nextToken }) };
}

/** Cancel: 409 once the run ended. */
export async function cancelRun(deps: RunDeps, actor: Actor, id: string): Promise<RunState> {
  decideCancelRun(await readRun(deps, actor, id));
  const ended = await end(deps, actor, id, 'cancelled', `cancelled by ${actor.caller.sub}`);
  // Another request may have ended it first with another outcome.
  if (ended.status !== 'cancelled') decideCancelRun(ended);
  return ended;
}

/** EventBridge Scheduler fires up to 60 s early: a firing within this long before the deadline is due. */
const earlyFiringMs = 90_000;

/**
 * The timeout schedule fired: a run still going is timed out and its machine stopped. A firing
 * earlier than the scheduler's documented slack (a stray event) changes nothing: the run's own
 * schedule still comes, and its instance powers itself off past the limit regardless. (It is not
 * re-armed: this function may not create schedules aimed at itself.)
 */
export async function timeOutRun(deps: RunDeps, actor: Actor, id: string): Promise<RunState['status']> {
  const state = await runsOf(deps).load(id);
  if (state.version === 0 || isFinished(state.status)) return state.status;
  if (Date.parse(state.deadline ?? '') - deps.clock.now().getTime() > earlyFiringMs) {
    actor.log.warn('run timeout fired long before the deadline; ignored', { run: id, deadline: state.deadline });
    return state.status;
  }
  return (await end(deps, actor, id, 'timed_out', `not finished within its time limit (deadline ${state.deadline})`)).status;
}

const resultFile = once(() => z.object({ steps: z.array(stepResult()), failed_step: z.optional(z.string()) }));

/**
 * A run's `result.json` arrived from `writer` (the S3 event in AWS, the local runner's end): passed
 * or failed with its steps, and the machine made sure to be gone. A run that already ended keeps
 * its status. Only the writer recorded for the run counts: another machine's file under the run's
 * id changes nothing (undefined, with a warning); one arriving before the run recorded its machine
 * is refused with a 503, so that the S3 event is retried.
 */
export async function completeRun(deps: RunDeps, id: string, writer: string, requestId: string, log: Actor['log']): Promise<RunState | undefined> {
  const actor: Actor = { caller: systemCaller('system'), requestId, log };
  const recorded = await runsOf(deps).load(id);
  if (recorded.version === 0) throw runNotFound(id);
  if (recorded.status === 'queued' && recorded.writer === undefined) {
    throw new ProvisionerError('service_unavailable', `Run ${id} has not recorded its machine yet; retry.`, undefined, { 'retry-after': '5' });
  }
  if (recorded.writer !== writer) {
    log.warn('a result from a writer the run did not start; ignored', { run: id, writer, expected: recorded.writer });
    return undefined;
  }
  const text = await deps.runLogs.get(runKeys.result(id, writer));
  let result: RunResult = { steps: [] };
  try {
    result = resultFile().parse(JSON.parse(text ?? 'null'));
  } catch {
    log.warn('run result missing or malformed', { run: id });
  }
  const outcome = outcomeOf(result);
  return runsOf(deps).update<RunState>(id, async (state) => {
    if (isFinished(state.status)) {
      await cleanUp(deps, state);
      return { done: state };
    }
    const set: RunChange = { status: outcome.status, steps: result.steps, failed_step: outcome.failed_step, reason: outcome.reason, finished_at: deps.clock.now().toISOString() };
    return {
      from: state,
      change: change(actor, outcome.status, set, outcome.failed_step ? { failed_step: outcome.failed_step } : undefined),
      after: async (ended) => {
        actor.log.info('run ended', { run: id, status: ended.status, failed_step: ended.failed_step });
        operationDuration('run', ended.created_at, deps.clock.now(), ended.status);
        if (ended.status === 'failed') await runFailed(deps, actor, ended);
        await cleanUp(deps, ended);
        return ended;
      },
    };
  }, recorded);
}

/**
 * The janitor's part for one run not ended, whose runner told what became of its machine (after a
 * crash of the local server): one running or ended gets its writer recorded if the crash came
 * before; an ended one that left `result.json` completes as that result says; one that ended
 * without a result, or never got a process (created before the runner started, so no launch is on
 * its way), ends `failed` with the reason. One the runner handles itself is left to it.
 */
export async function convergeRun(deps: RunDeps, actor: Actor, run: RunState, machine: RunMachineState): Promise<RunState['status']> {
  if (machine.state === 'handled') return run.status;
  if (machine.state === 'none' && !run.writer && (!run.created_at || new Date(run.created_at) >= machine.since)) return run.status;
  if (machine.state === 'none' || !machine.writer) return (await end(deps, actor, run.id, 'failed', 'the runner has no process for it (the server stopped before one started)')).status;
  if (machine.machine && !run.writer) await recordMachine(deps, actor, run.id, { machine: machine.machine, writer: machine.writer });
  if (machine.state === 'running') return run.status;
  if (machine.result) return (await completeRun(deps, run.id, machine.writer, actor.requestId, actor.log))?.status ?? run.status;
  return (await end(deps, actor, run.id, 'failed', 'its process ended without writing a result')).status;
}

/** Every run not ended, newest first, a page at a time (the janitor's sweep). */
export async function* unfinishedRuns(deps: Pick<RunDeps, 'store' | 'clock'>): AsyncGenerator<RunState> {
  let nextToken: string | undefined;
  do {
    const page = await runsOf(deps).list(runListKeys.all, 100, nextToken);
    yield* page.items.filter((run) => !isFinished(run.status));
    nextToken = page.nextToken;
  } while (nextToken);
}

/** The API's view of a run; `log_url` is a presigned GET valid 15 minutes once the run has a machine (its writer). */
export async function runView(deps: Pick<RunDeps, 'runLogs'>, state: RunState) {
  return {
    id: state.id,
    kind: state.kind ?? 'test',
    cluster: state.cluster ?? '',
    version: state.ref ?? '',
    plan: state.plan ?? null,
    status: state.status,
    created_by: state.created_by ?? null,
    created_at: state.created_at ?? null,
    deadline: state.deadline ?? null,
    finished_at: state.finished_at ?? null,
    steps: state.steps ?? [],
    failed_step: state.failed_step ?? null,
    reason: state.reason ?? null,
    log_url: state.writer ? await deps.runLogs.presignGet(runKeys.log(state.id, state.writer), logUrlSeconds) : null,
    updated_at: state.updated_at ?? null,
  };
}
