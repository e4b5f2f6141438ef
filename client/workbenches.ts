import { createCall } from './call.js';
import { ProvisionerApiError, type Session, sleep } from './session.js';
import type { OperationInput, OperationOutput, Page, PageOptions } from './types.js';

export type Workbench = OperationOutput<'workbench-get'>;
export type WorkbenchStatus = Workbench['status'];
export type NewWorkbench = OperationInput<'workbench-create'>['body'];

export interface WorkbenchWaitOptions {
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  intervalMs?: number;
  onProgress?: (workbench: Workbench, elapsedMs: number) => void;
}

/** `workbenches`: the workbench operations, one method each over the route table. */
export function workbenchesService(session: Session, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const call = createCall(session);
  const params = (id: string) => ({ id });

  const service = {
    /** Your workbenches (administrators: `owner` for someone else's). */
    list: (page: PageOptions & { owner?: string } = {}): Promise<Page<Workbench>> =>
      call('workbench-list', { query: { limit: page.limit, next_token: page.nextToken, owner: page.owner } }),
    create: (workbench: NewWorkbench): Promise<Workbench> => call('workbench-create', { body: workbench }),
    get: (id: string): Promise<Workbench> => call('workbench-get', { params: params(id) }),
    start: (id: string): Promise<Workbench> => call('workbench-start', { params: params(id) }),
    stop: (id: string): Promise<Workbench> => call('workbench-stop', { params: params(id) }),
    delete: (id: string): Promise<Workbench> => call('workbench-delete', { params: params(id) }),
    share: (id: string, login: string): Promise<Workbench> => call('workbench-share', { params: { id, login } }),
    unshare: (id: string, login: string): Promise<Workbench> => call('workbench-unshare', { params: { id, login } }),

    /** Polls until the workbench reaches `target`; throws when it fails (`operation_failed`) or time runs out (`timeout`). */
    async waitFor(id: string, target: WorkbenchStatus, wait: WorkbenchWaitOptions = {}): Promise<Workbench> {
      const started = now();
      const timeoutMs = wait.timeoutMs ?? 600_000;
      for (;;) {
        const workbench = await service.get(id);
        const elapsed = now() - started;
        wait.onProgress?.(workbench, elapsed);
        if (workbench.status === target) return workbench;
        if (workbench.status === 'failed') throw new ProvisionerApiError(0, 'operation_failed', `${id} failed: ${workbench.reason ?? 'no reason given'}.`, { workbench });
        if (elapsed >= timeoutMs) throw new ProvisionerApiError(0, 'timeout', `${id} is still ${workbench.status} after ${Math.round(elapsed / 1000)} s.`, { workbench });
        await sleep(Math.min(wait.intervalMs ?? 2_000, Math.max(0, timeoutMs - elapsed)));
      }
    },
  };
  return service;
}
