import { createCall } from './call.js';
import { ProvisionerApiError, type Session, sleep } from './session.js';
import type { OperationInput, OperationOutput, Page, PageOptions } from './types.js';
import { allPages, pageQuery } from './types.js';

export type Workspace = OperationOutput<'workspace-get'>;
export type WorkspaceStatus = Workspace['status'];
export type WorkspaceEvent = OperationOutput<'workspace-events'>['items'][number];
export type CreateWorkspaceOptions = NonNullable<OperationInput<'workspace-create'>['body']>;

export interface WorkspaceWaitOptions {
  /** Give up after this long (default 10 minutes, the catalog's default create timeout). */
  timeoutMs?: number;
  intervalMs?: number;
  onProgress?: (workspace: Workspace, elapsedMs: number) => void;
  now?: () => number;
}

/** `workspaces`: the workspace operations, one method each over the route table. */
export function workspacesService(session: Session) {
  const call = createCall(session);
  const params = (id: string) => ({ id });

  const service = {
    list: (options: PageOptions = {}): Promise<Page<Workspace>> => call('workspace-list', { query: pageQuery(options) }),

    /** Every workspace of the caller (an administrator's: everyone's), across pages. */
    all: (): AsyncGenerator<Workspace> => allPages(service.list),

    create: (options: CreateWorkspaceOptions = {}): Promise<Workspace> => call('workspace-create', { body: options }),
    get: (id: string): Promise<Workspace> => call('workspace-get', { params: params(id) }),
    expired: (id: string) => call('workspace-expired', { params: params(id) }),
    /** Moves the expiry: a duration from now (`"5d"`) or an ISO time. */
    extend: (id: string, expiry: string): Promise<Workspace> => call('workspace-update', { params: params(id), body: { expiry } }),
    delete: (id: string): Promise<Workspace> => call('workspace-delete', { params: params(id) }),
    events: (id: string, options: PageOptions = {}): Promise<Page<WorkspaceEvent>> => call('workspace-events', { params: params(id), query: pageQuery(options) }),

    /** Polls until the workspace is ready; throws when it fails (`operation_failed`) or the time runs out (`timeout`). */
    async waitForReady(id: string, options: WorkspaceWaitOptions = {}): Promise<Workspace> {
      const now = options.now ?? Date.now;
      const started = now();
      const timeoutMs = options.timeoutMs ?? 600_000;
      for (;;) {
        const workspace = await service.get(id);
        const elapsed = now() - started;
        options.onProgress?.(workspace, elapsed);
        if (workspace.status === 'ready') return workspace;
        if (workspace.status !== 'creating') throw new ProvisionerApiError(0, 'operation_failed', `${workspace.name} is ${workspace.status}: ${workspace.reason ?? 'no reason given'}.`, { workspace });
        if (elapsed >= timeoutMs) throw new ProvisionerApiError(0, 'timeout', `${workspace.name} is still creating after ${Math.round(elapsed / 1000)} s.`, { workspace });
        await sleep(Math.min(options.intervalMs ?? 2_000, Math.max(0, timeoutMs - elapsed)));
      }
    },
  };
  return service;
}
