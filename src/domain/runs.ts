import { ProvisionerError } from './errors.js';
import type { Caller } from './levels.js';

/**
 * TEST and RELEASE runs: a plan from the catalog, run once on a throw-away machine, its log and
 * result in S3. The decisions here are pure; the operations apply them as versioned-entity changes.
 */
export const runKinds = ['test', 'release'] as const;
export type RunKind = (typeof runKinds)[number];

/** queued → running → passed | failed | timed_out | cancelled (queued may also end directly). */
export const runStatuses = ['queued', 'running', 'passed', 'failed', 'timed_out', 'cancelled'] as const;
export type RunStatus = (typeof runStatuses)[number];

/** The statuses a run never leaves. */
export const finishedRunStatuses: readonly RunStatus[] = ['passed', 'failed', 'timed_out', 'cancelled'];

/** How a step of a finished run ended, as `result.json` reports it. */
export const stepStatuses = ['passed', 'failed', 'skipped'] as const;
export type StepStatus = (typeof stepStatuses)[number];

export interface StepResult {
  name: string;
  status: StepStatus;
  seconds: number;
  exit_code?: number;
}

export interface RunState {
  id: string;
  status: RunStatus;
  version: number;
  kind?: RunKind;
  cluster?: string;
  /** The git ref the run checks out. */
  ref?: string;
  plan?: string;
  created_by?: string;
  created_at?: string;
  /** When the time limit ends the run. */
  deadline?: string;
  /** The id of the one-time timeout schedule; a schedule that fires with another id does nothing. */
  timeout_id?: string;
  /** The machine running it (an EC2 instance id, a local process group). */
  machine?: string;
  /** Who may write its log and result (`runKeys`): recorded with the machine. */
  writer?: string;
  steps?: StepResult[];
  failed_step?: string;
  reason?: string;
  finished_at?: string;
  updated_at?: string;
}

export function unknownRun(id: string): RunState {
  return { id, status: 'queued', version: 0 };
}

export function runNotFound(id: string): ProvisionerError {
  return new ProvisionerError('run_not_found', `No run ${id}; GET /v1/runs lists them.`);
}

export const isFinished = (status: RunStatus): boolean => finishedRunStatuses.includes(status);

/** The rule a run's `version` follows, for error messages. */
export const refRule =
  'must be a git tag, branch or commit SHA: 1-128 of letters, digits and . _ / -, starting with a letter or digit, without "..", "//", "@{", a trailing "/" or "." or ".lock"';
const refCharacters = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

/**
 * A safe git ref: a subset of `git check-ref-format` that leaves nothing for a shell or for git's
 * option parser (no leading `-`, no spaces, quotes, `$`, `;` or newlines), so that it can reach a
 * script as plain data.
 */
export function isSafeRef(ref: string): boolean {
  return (
    refCharacters.test(ref) &&
    !ref.includes('..') &&
    !ref.includes('//') &&
    !ref.includes('/.') &&
    !ref.endsWith('/') &&
    !ref.endsWith('.') &&
    !ref.endsWith('.lock')
  );
}

/** TEST and RELEASE, and reading runs: administrators only (the seed's rule). */
export function authorizeRuns(caller: Caller): void {
  if (caller.level === 'administrator' || caller.sub === 'system' || caller.sub === 'scheduler') return;
  if (caller.level === 'anonymous') throw new ProvisionerError('authentication_required', 'Log in as an administrator to start or read runs.');
  throw new ProvisionerError('forbidden', 'Only administrators start or read test and release runs.');
}

/** TEST runs against the cluster, so it must be running; RELEASE only builds and pushes. */
export function decideStart(kind: RunKind, ref: string, clusterName: string, clusterStatus: string): void {
  if (!isSafeRef(ref)) throw new ProvisionerError('invalid_request', `version ${refRule}.`, { field: 'version' });
  if (kind === 'test' && clusterStatus !== 'running') {
    throw new ProvisionerError('cluster_not_running', `${clusterName} is ${clusterStatus}; a test run needs it running (deploy it first).`, { status: clusterStatus });
  }
}

/** Cancel: only a run that has not finished. */
export function decideCancelRun(state: RunState): void {
  if (isFinished(state.status)) {
    throw new ProvisionerError('run_finished', `Run ${state.id} already ended ${state.status}; there is nothing to cancel.`, { status: state.status });
  }
}

/** What a run's `result.json` says: each step as it ended, and the step that failed. */
export interface RunResult {
  steps: StepResult[];
  failed_step?: string;
}

/** passed when every step passed, failed (naming the step) otherwise. */
export function outcomeOf(result: RunResult): { status: 'passed' | 'failed'; failed_step?: string; reason?: string } {
  const failed = result.failed_step ?? result.steps.find((s) => s.status !== 'passed')?.name;
  if (failed === undefined && result.steps.length > 0) return { status: 'passed' };
  return { status: 'failed', failed_step: failed, reason: failed ? `step ${failed} failed` : 'the run reported no steps' };
}

/**
 * Where a run's files live in the log bucket: under `runs/<id>/<writer>/`, the writer being the
 * identity that wrote them. On EC2 that is the instance profile's `aws:userid`
 * (`<role-id>:<instance-id>`), the only prefix IAM lets that instance write to; locally
 * `local:<pid>`. The run records its writer when its machine starts, and only that writer's files
 * count.
 */
export const runKeys = {
  prefix: (id: string, writer: string) => `runs/${id}/${writer}/`,
  log: (id: string, writer: string) => `runs/${id}/${writer}/log.txt`,
  result: (id: string, writer: string) => `runs/${id}/${writer}/result.json`,
  /** The run id and writer of a `runs/<id>/<writer>/result.json` key (an S3 event's), or undefined. */
  parseResult(key: string): { id: string; writer: string } | undefined {
    const match = /^runs\/([0-9a-f-]{36})\/([A-Za-z0-9]{1,128}:[A-Za-z0-9-]{1,64})\/result\.json$/.exec(key);
    return match?.[1] && match[2] ? { id: match[1], writer: match[2] } : undefined;
  },
};
