import { createCall } from './call.js';
import { ProvisionerApiError, type Session, sleep } from './session.js';
import type { OperationInput, OperationOutput, Page, PageOptions } from './types.js';
import { allPages, pageQuery } from './types.js';

export type Run = OperationOutput<'get-run'>;
export type RunStatus = Run['status'];
export type RunKind = Run['kind'];
/** The filters of `runs.list`: each applies within a page, so a page may be short and still have a next one. */
export type RunFilter = Omit<NonNullable<OperationInput<'list-runs'>['query']>, 'limit' | 'next_token'>;

/** The statuses a run does not leave. */
export const finalRunStatuses: readonly RunStatus[] = ['passed', 'failed', 'timed_out', 'cancelled'];

/** Whether a run has ended (passed, failed, timed out or cancelled). */
export const runEnded = (run: Run): boolean => finalRunStatuses.includes(run.status);

export interface RunWaitOptions {
  /** Give up after this long (default 2 hours, the catalog's default run time limit). */
  timeoutMs?: number;
  intervalMs?: number;
  /** Called after each poll. */
  onProgress?: (run: Run, elapsedMs: number) => void;
  now?: () => number;
}

export interface LogFollowOptions extends Omit<RunWaitOptions, 'onProgress'> {
  /** Each new piece of the log, as it arrives (whole characters: a split UTF-8 sequence waits for its end). */
  onText: (text: string) => void;
}

/**
 * The log's bytes from `offset` on, through its presigned link: a Range request, as the log is one
 * object that only grows (each upload replaces it with a longer one). None yet (404) or nothing new
 * (416) is empty.
 */
/** A failure worth another try: no answer, or a 5xx. */
function isTransient(error: unknown): boolean {
  return !(error instanceof ProvisionerApiError) || error.status === 0 || error.status >= 500;
}

async function logBytes(id: string, url: string, offset: number): Promise<Uint8Array> {
  const response = await fetch(url, offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {});
  if (response.status === 404 || response.status === 416) return new Uint8Array();
  if (!response.ok) throw new ProvisionerApiError(response.status, 'log_unavailable', `The log of run ${id} could not be read (HTTP ${response.status}).`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  // A server that ignores Range answers 200 with the whole log.
  return response.status === 206 ? bytes : bytes.subarray(offset);
}

/** `runs`: TEST and RELEASE runs, one method each over the route table, plus the log and a wait. */
export function runsService(session: Session) {
  const call = createCall(session);
  const params = (id: string) => ({ id });

  const service = {
    /** TEST: runs the catalog's test plan at the git ref `version` against the (running) cluster. */
    test: (cluster: string, version: string): Promise<Run> => call('test-runner', { params: { cluster }, body: { version } }),
    /** RELEASE: runs the catalog's release plan of the cluster at the git ref `version`. */
    release: (cluster: string, version: string): Promise<Run> => call('release', { params: { cluster }, body: { version } }),
    get: (id: string): Promise<Run> => call('get-run', { params: params(id) }),
    /** Runs, newest first, filtered by cluster, kind and status. */
    list: (options: RunFilter & PageOptions = {}): Promise<Page<Run>> =>
      call('list-runs', { query: { cluster: options.cluster, kind: options.kind, status: options.status, ...pageQuery(options) } }),
    /** Every run matching the filters, across pages. */
    all: (filter: RunFilter = {}): AsyncGenerator<Run> => allPages((page) => service.list({ ...filter, ...page })),
    /** Cancels a run that has not ended (409 `run_finished` once it has). */
    cancel: (id: string): Promise<Run> => call('cancel-run', { params: params(id) }),

    /** The run's log as text so far (uploaded every 30 s and after each step while it runs): empty while it has none yet. */
    async log(id: string): Promise<string> {
      const run = await service.get(id);
      // The link is presigned before the first upload: no object yet is no log yet.
      return run.log_url ? new TextDecoder().decode(await logBytes(id, run.log_url, 0)) : '';
    },

    /**
     * Hands the log to `onText` as it grows, only the new bytes each time, until the run ends, and
     * returns the run however it ended; throws only when the time runs out (code `timeout`).
     */
    async followLog(id: string, options: LogFollowOptions): Promise<Run> {
      const decoder = new TextDecoder();
      let offset = 0;
      let failures = 0;
      return poll(id, options, async (run) => {
        if (!run.log_url) return;
        let bytes: Uint8Array;
        for (;;) {
          try {
            bytes = await logBytes(id, run.log_url, offset);
            failures = 0;
            break;
          } catch (error) {
            // The log is re-uploaded while the run goes: a read that fails on the way (storage busy,
            // network) is tried again, at the next poll while the run goes, at once when it has
            // ended (the end of the log is still to come). Refused (4xx), or three times in a row,
            // it is the caller's to see.
            if (!isTransient(error) || ++failures >= 3) throw error;
            if (!runEnded(run)) return;
            await sleep(Math.min(options.intervalMs ?? 2_000, 1_000));
          }
        }
        offset += bytes.length;
        const text = decoder.decode(bytes, { stream: !runEnded(run) });
        if (text) options.onText(text);
      });
    },

    /**
     * Polls until the run ends and returns it, whichever way it ended (see `run.status`,
     * `run.failed_step`); throws only when the time runs out (code `timeout`).
     */
    waitFor: (id: string, options: RunWaitOptions = {}): Promise<Run> => poll(id, options),
  };

  /** Polls the run until it ends, with `each` after every answer. */
  async function poll(id: string, options: RunWaitOptions, each?: (run: Run) => Promise<void>): Promise<Run> {
    const now = options.now ?? Date.now;
    const started = now();
    const timeoutMs = options.timeoutMs ?? 7_200_000;
    for (;;) {
      const run = await service.get(id);
      const elapsed = now() - started;
      options.onProgress?.(run, elapsed);
      await each?.(run);
      if (runEnded(run)) return run;
      if (elapsed >= timeoutMs) throw new ProvisionerApiError(0, 'timeout', `Run ${id} is still ${run.status} after ${Math.round(elapsed / 1000)} s.`, { run });
      await sleep(Math.min(options.intervalMs ?? 2_000, Math.max(0, timeoutMs - elapsed)));
    }
  }
  return service;
}
