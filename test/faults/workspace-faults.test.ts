import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import type { Actor } from '../../src/actor.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { type Caller, systemCaller } from '../../src/domain/levels.js';
import type { WorkspaceState, WorkspaceTimer } from '../../src/domain/workspaces.js';
import {
  createWorkspace,
  deleteWorkspace,
  extendWorkspace,
  listWorkspaces,
  readWorkspace,
  sweepWorkspaces,
  type WorkspaceDeps,
  workspaceTimer,
} from '../../src/operations/workspaces/use-cases.js';
import type { NewItem, ScheduledCall, Scheduler, Store, WorkspaceBackend } from '../../src/ports.js';
import { workspaceKeys } from '../../src/store/keys.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeWorkspaces } from '../support/fake-workspaces.js';
import { testCatalog } from '../support/local-api.js';
import { Crash, crashing, type Plan } from '../support/crash.js';

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
const catalog = parseCatalog(JSON.stringify({ ...testCatalog, workspaces: { limits: { org_member: { count: 2 } } } }), 'workspace faults catalog');
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

const members = async (key: { pk: string; sk: string }) => [...((await store.get(key))?.members as Set<string> | undefined ?? [])];
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: unknown) => (error instanceof ProvisionerError ? error.code : String(error)));

describe('a per-user workspace limit (issue 24.10)', () => {
  it('refuses the third workspace with 403 limit_exceeded naming the limit, and frees a slot on delete', async () => {
    const owner = user();
    const first = await createWorkspace(deps, owner, {});
    await createWorkspace(deps, owner, {});
    const refused = (await createWorkspace(deps, owner, { name: 'third-one' }).catch((error: unknown) => error)) as ProvisionerError;
    expect([refused.code, refused.status, refused.details]).toEqual(['limit_exceeded', 403, { limit: 'workspaces.limits.count', max: 2 }]);
    // The refused create took nothing: its name is free, no schedule of its own.
    expect(await members(workspaceKeys.name('third-one'))).toEqual([]);
    await deleteWorkspace(deps, owner, first.id);
    expect((await createWorkspace(deps, owner, { name: 'third-one' })).name).toBe('third-one');
  });

  it('counts parallel creates with one conditional claim: never more than the limit', async () => {
    const owner = user();
    const results = await Promise.all(Array.from({ length: 6 }, () => codeOf(createWorkspace(deps, owner, {}))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(2);
    expect(results.filter((r) => r !== 'ok')).toEqual(['limit_exceeded', 'limit_exceeded', 'limit_exceeded', 'limit_exceeded']);
  });
});

describe('a create that fails before its workspace is recorded gives back what it took (issue 24.6)', () => {
  it('releases the name and the slot and cancels its schedules when the write fails', async () => {
    const owner = user();
    const failing: Store = new Proxy(store, {
      get: (target, property, receiver) =>
        property === 'createIfAbsent'
          ? (item: NewItem) => (String(item.pk).startsWith('workspace#') ? Promise.reject(new Error('the write failed')) : target.createIfAbsent(item))
          : (Reflect.get(target, property, receiver) as unknown),
    });
    const before = new Set(scheduler.calls.keys());
    await expect(createWorkspace({ ...deps, store: failing }, owner, { name: 'gives-back' })).rejects.toThrow('the write failed');
    expect(await members(workspaceKeys.name('gives-back'))).toEqual([]);
    expect(await members(workspaceKeys.slots(owner.caller.sub))).toEqual([]);
    expect([...scheduler.calls.keys()].filter((name) => !before.has(name))).toEqual([]);
    expect((await createWorkspace(deps, owner, { name: 'gives-back' })).name).toBe('gives-back');
  });
});

/** Issue 24.7: a crash (the process gone, as kill -9 leaves it) at each awaited port call of a create or a delete, then what the system does next. */
describe('crash leftovers converge (issue 24.7)', () => {
  const operations = {
    create: { setup: async () => undefined, run: (d: WorkspaceDeps, owner: Actor) => createWorkspace(d, owner, { name: `crash-${next}` }) },
    delete: {
      setup: async (owner: Actor) => (await ready(owner)).id,
      run: (d: WorkspaceDeps, owner: Actor, id?: string) => deleteWorkspace(d, owner, id ?? ''),
    },
  };
  const rules = { createTimeoutMs: 10 * 60_000, failedTtlMs: 60 * 60_000 };

  describe.each(Object.keys(operations) as (keyof typeof operations)[])('%s', (operationName) => {
    it.each(['before', 'after'] as const)('crashing %s each port call: the janitor converges, the name is free, no workspace process is left', async (when) => {
      const operation = operations[operationName];
      let crashes = 0;
      for (let at = 1; at <= 40; at++) {
        const owner = user();
        const name = `crash-${next}`;
        const setup = await operation.setup(owner);
        const plan: Plan = { at, when, calls: 0, dead: false };
        const crashed = { ...deps, store: crashing(store as Store, plan), scheduler: crashing(scheduler as Scheduler, plan), workspaceBackend: crashing(backend as WorkspaceBackend, plan) };
        await operation.run(crashed, owner, setup).catch((error: unknown) => {
          if (!(error instanceof Crash)) throw error;
        });
        if (plan.dead) crashes++;
        // Restart: time passes beyond every deadline and failed_ttl, the janitor runs.
        clock.advance(rules.createTimeoutMs + rules.failedTtlMs + 60_000);
        await sweepWorkspaces(deps, system);
        // The owner deletes what is left, the janitor runs again.
        for (const left of (await listWorkspaces(deps, owner, 100)).items) await deleteWorkspace(deps, owner, left.id).catch(() => undefined);
        await sweepWorkspaces(deps, system);
        expect([at, (await listWorkspaces(deps, owner, 100)).items.map((w) => w.status)]).toEqual([at, []]);
        const launched = backend.launched.filter((l) => l.owner === owner.caller.sub).map((l) => l.id);
        for (const id of launched) expect([at, id, (await backend.status(id)).state]).toEqual([at, id, 'gone']);
        // The name a crashed create claimed is free for the next create.
        if (operationName === 'create') {
          const again = await createWorkspace(deps, user(), { name });
          expect(again.name).toBe(name);
          await deleteWorkspace(deps, system, again.id);
        }
        if (!plan.dead) break;
      }
      expect(crashes).toBeGreaterThan(0);
      expect(crashes).toBeLessThan(40);
    }, 120_000);
  });
});

describe('a create that crashed before recording its workspace (kill -9 mid-create)', () => {
  it('holds its name and slot no longer than a request can live, not until create_timeout', async () => {
    const owner = user();
    const name = `orphan-${next}`;
    // The process dies on the first schedule: the name and the slot are claimed, nothing is recorded.
    const plan: Plan = { at: 0, when: 'before', calls: 0, dead: false };
    const dying: Scheduler = {
      schedule: async () => {
        plan.dead = true;
        throw new Crash('crash before the first schedule');
      },
      cancel: (scheduleName) => scheduler.cancel(scheduleName),
    };
    await createWorkspace({ ...deps, store: crashing(store as Store, plan), scheduler: dying }, owner, { name }).catch((error: unknown) => {
      if (!(error instanceof Crash)) throw error;
    });
    expect(plan.dead).toBe(true);
    await expect(createWorkspace(deps, user(), { name })).rejects.toMatchObject({ code: 'name_taken' });
    // Past the request window (API Gateway cuts at 30 s), well before create_timeout (10 minutes).
    clock.advance(2 * 60 * second);
    const again = await createWorkspace(deps, owner, { name });
    expect(again.name).toBe(name);
    // Both of the owner's two slots are free again.
    const other = await createWorkspace(deps, owner, {});
    await Promise.all([again, other].map((w) => deleteWorkspace(deps, owner, w.id)));
  });
});

describe('a create recorded but never started (kill -9 between the two)', () => {
  it('the janitor starts it before its deadline, and it becomes ready', async () => {
    const owner = user();
    // The process dies as the backend is asked to start it: nothing after that is written.
    const plan: Plan = { at: 0, when: 'before', calls: 0, dead: false };
    const dying: WorkspaceBackend = {
      status: (id) => backend.status(id),
      delete: (id) => backend.delete(id),
      create: async () => {
        plan.dead = true;
        throw new Crash('crash before the backend start');
      },
    };
    const crashed = { ...deps, store: crashing(store as Store, plan), scheduler: crashing(scheduler as Scheduler, plan), workspaceBackend: dying };
    await createWorkspace(crashed, owner, {}).catch((error: unknown) => {
      if (!(error instanceof Crash)) throw error;
    });
    const [recorded] = (await listWorkspaces(deps, owner, 10)).items;
    expect([plan.dead, recorded?.status, backend.launched.some((l) => l.id === recorded?.id)]).toEqual([true, 'creating', false]);
    const id = recorded?.id ?? '';
    await sweepWorkspaces(deps, system);
    expect(backend.launch(id).owner).toBe(owner.caller.sub);
    backend.set(id, { state: 'running', host: '10.0.0.9', port: 8080 });
    expect((await readWorkspace(deps, owner, id)).status).toBe('ready');
    await deleteWorkspace(deps, owner, id);
  });
});

describe('the catalog\'s template values (issue 24.1)', () => {
  it('refuses keys that become the same variable', () => {
    const parse = (values: Record<string, string>) => () => parseCatalog(JSON.stringify({ ...testCatalog, workspaces: { template: { values } } }), 'catalog');
    expect(parse({ 'pachd.logLevel': 'info', 'PACHD.LOGLEVEL': 'debug' })).toThrow(/differ by more than case/);
    expect(parse({ 'pachd.logLevel': 'info', 'console.theme': 'light' })).not.toThrow();
  });
});
