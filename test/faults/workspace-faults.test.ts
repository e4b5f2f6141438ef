import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import type { Actor } from '../../src/actor.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { type Caller, systemCaller } from '../../src/domain/levels.js';
import type { WorkspaceState, WorkspaceTimer } from '../../src/domain/workspaces.js';
import { createWorkspace, extendWorkspace, readWorkspace, type WorkspaceDeps, workspaceTimer } from '../../src/operations/workspaces/use-cases.js';
import type { ScheduledCall, Scheduler } from '../../src/ports.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeWorkspaces } from '../support/fake-workspaces.js';
import { testCatalog } from '../support/local-api.js';

/** EventBridge Scheduler as the use cases see it: named one-time schedules, fired on demand (and deleted, as ActionAfterCompletion DELETE does). */
class Schedules implements Scheduler {
  readonly calls = new Map<string, ScheduledCall>();
  async schedule(call: ScheduledCall): Promise<void> {
    if (!this.calls.has(call.name)) this.calls.set(call.name, call);
  }
  async cancel(name: string): Promise<void> {
    this.calls.delete(name);
  }
  /** The workspace's schedule of `timer`. */
  of(id: string, timer: WorkspaceTimer): ScheduledCall {
    const found = [...this.calls.values()].find((c) => c.target === 'workspace-timer' && c.payload.workspace === id && c.payload.timer === timer);
    if (!found) throw new Error(`no ${timer} schedule for ${id}`);
    return found;
  }
  async fire(call: ScheduledCall, deps: WorkspaceDeps): Promise<string> {
    this.calls.delete(call.name);
    if (call.target !== 'workspace-timer') throw new Error(`not a workspace timer: ${call.target}`);
    return workspaceTimer(deps, system, call.payload);
  }
}

const log = { debug() {}, info() {}, warn() {}, error() {} };
const system: Actor = { caller: systemCaller('scheduler'), requestId: 'scheduler', log };
const catalog = parseCatalog(JSON.stringify(testCatalog), 'workspace faults catalog');
const second = 1000;

const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const backend = new FakeWorkspaces();
const scheduler = new Schedules();
let dynamo: LocalDynamo;
let store: DynamoStore;
let deps: WorkspaceDeps;
let next = 0;

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  deps = { store, clock, catalog, scheduler, workspaceBackend: backend };
});
afterAll(() => dynamo.close());

/** A fresh org member, so that no test sees another's workspaces (or limits). */
function user(): Actor {
  const n = next++;
  const caller: Caller = { sub: `github:user${n}`, login: `user${n}`, level: 'org_member', orgs: ['acme'] };
  return { caller, requestId: `request-${n}`, log };
}

async function ready(owner: Actor, expiry = '3h'): Promise<WorkspaceState> {
  const created = await createWorkspace(deps, owner, { expiry });
  backend.set(created.id, { state: 'running', host: '10.0.0.1', port: 1 });
  const state = await readWorkspace(deps, owner, created.id);
  expect(state.status).toBe('ready');
  return state;
}

const load = async (id: string, owner: Actor) => readWorkspace(deps, owner, id).catch((error: unknown) => {
  if (error instanceof ProvisionerError && error.code === 'workspace_not_found') return undefined;
  throw error;
});

describe('timers fire up to a minute early (issue 21.3): a firing within 90 s before its time is due', () => {
  it('expire, 59 s early, deletes the workspace', async () => {
    const owner = user();
    const { id } = await ready(owner);
    const expire = scheduler.of(id, 'expire');
    clock.set(new Date(expire.at.getTime() - 59 * second).toISOString());
    expect(await scheduler.fire(expire, deps)).toBe('deleted');
    expect(await load(id, owner)).toBeUndefined();
    expect(backend.deleted).toContain(id);
  });

  it('notice, 59 s early, records workspace.expiring', async () => {
    const owner = user();
    const { id } = await ready(owner);
    const notice = scheduler.of(id, 'notice');
    clock.set(new Date(notice.at.getTime() - 59 * second).toISOString());
    expect(await scheduler.fire(notice, deps)).toBe('noticed');
    expect((await readWorkspace(deps, owner, id)).notice_id).toBeUndefined();
  });

  it('cleanup, 59 s early, deletes a workspace that never became ready', async () => {
    const owner = user();
    const { id } = await createWorkspace(deps, owner, {});
    const cleanup = scheduler.of(id, 'cleanup');
    clock.set(new Date(cleanup.at.getTime() - 59 * second).toISOString());
    expect(await scheduler.fire(cleanup, deps)).toBe('deleted');
    expect(await load(id, owner)).toBeUndefined();
  });

  it('expire, 2 minutes early, does nothing', async () => {
    const owner = user();
    const { id } = await ready(owner);
    const expire = scheduler.of(id, 'expire');
    clock.set(new Date(expire.at.getTime() - 120 * second).toISOString());
    await scheduler.fire(expire, deps);
    expect((await readWorkspace(deps, owner, id)).status).toBe('ready');
  });
});

describe('an acknowledged extension is never lost to the expiry timer (issue 24.4)', () => {
  it('races PATCH against the expire timer: either the extension stands or it is refused, never both', async () => {
    const outcomes = { extended: 0, expired: 0 };
    for (let trial = 0; trial < 40; trial++) {
      const owner = user();
      const { id, expire_id: expireId } = await ready(owner, '1h');
      clock.set(new Date(Date.parse((await readWorkspace(deps, owner, id)).expires_at ?? '')).toISOString());
      const jitter = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
      const [extend] = await Promise.allSettled([
        jitter().then(() => extendWorkspace(deps, owner, id, '2h')),
        jitter().then(() => workspaceTimer(deps, system, { workspace: id, timer: 'expire', schedule_id: expireId ?? '' })),
      ]);
      const after = await load(id, owner);
      if (extend.status === 'fulfilled') {
        outcomes.extended++;
        expect([trial, after?.status, after?.expires_at]).toEqual([trial, 'ready', extend.value.expires_at]);
        expect(backend.deleted).not.toContain(id);
      } else {
        outcomes.expired++;
        expect([trial, (extend.reason as ProvisionerError).code]).toEqual([trial, 'workspace_not_active']);
        expect(after).toBeUndefined();
      }
    }
    // Both orders happened, or the race proved nothing.
    expect(outcomes.extended).toBeGreaterThan(0);
    expect(outcomes.expired).toBeGreaterThan(0);
  }, 60_000);
});
