import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { LocalWorkbenchCompute } from '../../src/adapters/local/process-workbenches.js';
import type { Actor } from '../../src/actor.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { dependencyUnavailable } from '../../src/adapters/aws/failures.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { type Caller, systemCaller } from '../../src/domain/levels.js';
import { liveStatuses } from '../../src/domain/workbenches.js';
import {
  createWorkbench,
  deleteWorkbench,
  readWorkbench,
  startWorkbench,
  stopWorkbench,
  sweepWorkbenches,
  type WorkbenchDeps,
  workbenchesOf,
} from '../../src/operations/workbenches/use-cases.js';
import type { ScheduledCall, Scheduler, Store, WorkbenchCompute, WorkbenchTask } from '../../src/ports.js';
import { workbenchKeys } from '../../src/store/keys.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { awsError } from '../support/fake-aws.js';
import { FakeWorkbenches } from '../support/fake-workbenches.js';
import { Crash, crashing, type Plan } from '../support/crash.js';

/**
 * Issue 24, points 1 and 7 (local backend): a workbench process gets a minimal environment, and
 * every process carries its workbench, run and runtime, so one whose record a crash lost is still
 * found by stop, delete and the janitor's sweep.
 */
const clock = new ManualClock();
let dynamo: LocalDynamo;
let store: DynamoStore;
let dataDir: string;
const runtime = `test-${process.pid}`;
/** Writes its environment to `<data>/env.json`, then idles like a workbench. */
const envDumper = [process.execPath, '-e', "require('fs').mkdirSync(process.env.WORKBENCH_DATA,{recursive:true});require('fs').writeFileSync(process.env.WORKBENCH_DATA+'/env.json',JSON.stringify(process.env));setInterval(()=>{},1000)"];

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  dataDir = mkdtempSync(join(tmpdir(), 'workbench-faults-'));
});
afterAll(async () => {
  // Nothing of this suite outlives it, whatever failed.
  LocalWorkbenchCompute.tagged(runtime).forEach(({ pid }) => process.kill(pid, 'SIGKILL'));
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let next = 0;
function task(): WorkbenchTask {
  const n = next++;
  return { workbenchId: `wb-00000000000${n}`, runId: `run${n}`, name: 'MY_VAR=1; rm -rf /', owner: 'github:olga', ownerLogin: 'olga', cpu: 1024, memory: 2048, gpu: 0, capacityProvider: 'default', dedicatedInstance: false };
}

function backend(over: Store = store) {
  return new LocalWorkbenchCompute(over, { command: envDumper, dataDir, detached: false, runtime });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

/** Pids of live processes tagged with this run (read from /proc, as the backend does). */
function tagged(runId: string): number[] {
  return LocalWorkbenchCompute.tagged(runtime).filter((p) => p.runId === runId).map((p) => p.pid);
}

/** A store whose record writes never end: the process started, its record never written (the server died in between). */
const losingRecords = (real: Store): Store =>
  new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'createIfAbsent') return () => new Promise(() => undefined);
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('local workbench processes', () => {
  it('get a minimal environment: never the server\'s own variables, only fixed names', async () => {
    process.env.PROVISIONER_TEST_SECRET = 'server-only';
    try {
      const t = task();
      const compute = backend();
      await compute.start(t);
      const file = join(dataDir, t.workbenchId, 'env.json');
      await until(() => existsSync(file) && readFileSync(file, 'utf8').length > 0, 'the environment dump');
      const env = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      expect(env.PROVISIONER_TEST_SECRET).toBeUndefined();
      expect(env.NODE_OPTIONS).toBeUndefined();
      // The user's name is a value, never a name.
      expect(env.WORKBENCH_NAME).toBe('MY_VAR=1; rm -rf /');
      expect(env.MY_VAR).toBeUndefined();
      expect(Object.keys(env).filter((k) => !['PATH', 'HOME'].includes(k) && !k.startsWith('WORKBENCH_') && !k.startsWith('PROVISIONER_WORKBENCH') && k !== 'PROVISIONER_RUNTIME' && k !== 'PORT').filter((k) => !/^(_|PWD|SHLVL|LC_ALL)$/.test(k))).toEqual([]);
      await compute.remove(t);
    } finally {
      delete process.env.PROVISIONER_TEST_SECRET;
    }
  });

  it('a process whose record was lost is stopped by stop and by delete', async () => {
    for (const how of ['stop', 'remove'] as const) {
      const t = task();
      void backend(losingRecords(store)).start(t);
      await until(() => tagged(t.runId).length === 1, 'the tagged process');
      await backend()[how](t);
      await until(() => tagged(t.runId).length === 0, `${how} to end it`);
    }
  });

  it('the janitor\'s sweep stops tagged processes of runs no live workbench owns, and spares the live and the new', async () => {
    const lost = task();
    const live = task();
    void backend(losingRecords(store)).start(lost);
    const compute = backend();
    await compute.start(live);
    await until(() => tagged(lost.runId).length === 1 && tagged(live.runId).length === 1, 'both processes');
    // Started after the sweep began: spared.
    expect(await compute.sweep(new Set([live.runId]), new Date(Date.now() - 60_000))).toEqual([]);
    expect(await compute.sweep(new Set([live.runId]), new Date(Date.now() + 60_000))).toEqual([lost.runId]);
    await until(() => tagged(lost.runId).length === 0, 'the sweep to end the lost run');
    expect(tagged(live.runId)).toHaveLength(1);
    await compute.remove(live);
    await until(() => tagged(live.runId).length === 0, 'delete');
  });
});

/*
 * Issue 24, point 7 (use cases): the server dies at each awaited port call of an operation in turn
 * (store, scheduler, backend), before the call or after it but before the answer; then what a user
 * and the system do (the request again, a read, the start deadline passing, the janitor, a read)
 * must converge: a settled status the backend agrees with, nothing running that no live workbench
 * owns, the slot held exactly while the workbench exists, and nothing left once it is deleted.
 */

/** Named one-time schedules, as the use cases see EventBridge Scheduler. */
class Schedules implements Scheduler {
  readonly calls = new Map<string, ScheduledCall>();
  async schedule(call: ScheduledCall): Promise<void> {
    if (!this.calls.has(call.name)) this.calls.set(call.name, call);
  }
  async cancel(name: string): Promise<void> {
    this.calls.delete(name);
  }
}

/** The fake backend with the janitor's sweep: runs no live workbench owns are stopped. */
class SweptWorkbenches extends FakeWorkbenches {
  async sweep(live: ReadonlySet<string>): Promise<string[]> {
    const swept = [...new Set(this.started.map((t) => t.runId))].filter((run) => !live.has(run) && this.started.some((t) => t.runId === run && this.live(t.workbenchId).includes(run)));
    for (const run of swept) await this.stop(this.started.find((t) => t.runId === run) as WorkbenchTask);
    return swept;
  }
  /** Live runs of an owner's workbenches. */
  liveOf(owner: string): string[] {
    return [...new Set(this.started.filter((t) => t.owner === owner).map((t) => t.workbenchId))].flatMap((id) => this.live(id));
  }
}

describe('crash consistency of workbench operations', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const system: Actor = { caller: systemCaller('scheduler'), requestId: 'janitor', log: quiet };
  const catalog = parseCatalog(JSON.stringify({ organization: 'acme', admins: ['alice'], clusters: [] }), 'crash catalog');
  const compute = new SweptWorkbenches();
  const scheduler = new Schedules();
  let deps: WorkbenchDeps;
  let users = 0;
  beforeAll(() => {
    deps = { store, clock, catalog, scheduler, workbenchCompute: compute };
  });

  const fresh = (): Actor => {
    const n = users++;
    const caller: Caller = { sub: `github:crash${n}`, login: `crash${n}`, level: 'github_member', orgs: [] };
    return { caller, requestId: `setup-${n}`, log: quiet };
  };
  const small = { name: 'crash', cpu: 1024, memory: 2048 };
  const ignoringRefusals = (promise: Promise<unknown>) => promise.catch((error: unknown) => {
    if (!(error instanceof ProvisionerError)) throw error;
  });
  /** The user's one workbench id, if any was written. */
  const workbenchOf = async (user: Actor) => (await store.query({ index: 'gsi1', partition: workbenchKeys.owner(user.caller.sub), limit: 10 })).items[0]?.id as string | undefined;

  type Operation = { setup(user: Actor): Promise<string | undefined>; run(d: WorkbenchDeps, user: Actor, id: string | undefined): Promise<unknown> };
  const running = async (user: Actor) => {
    const { id } = await createWorkbench(deps, user, small);
    compute.set(id, 'running');
    return id;
  };
  const operations: Record<string, Operation> = {
    create: { setup: async () => undefined, run: (d, user) => createWorkbench(d, user, small) },
    start: {
      setup: async (user) => {
        const id = await running(user);
        await stopWorkbench(deps, user, id);
        return id;
      },
      run: (d, user, id) => startWorkbench(d, user, id ?? ''),
    },
    stop: { setup: running, run: (d, user, id) => stopWorkbench(d, user, id ?? '') },
    delete: { setup: running, run: (d, user, id) => deleteWorkbench(d, user, id ?? '') },
  };

  async function recover(operation: Operation, user: Actor, id: string | undefined): Promise<void> {
    if (id) await ignoringRefusals(operation.run(deps, user, id));
    const written = id ?? (await workbenchOf(user));
    if (written) await ignoringRefusals(readWorkbench(deps, user, written));
    clock.advance(20 * 60_000);
    await sweepWorkbenches(deps, system);
    if (written) await ignoringRefusals(readWorkbench(deps, user, written));
  }

  async function expectConsistent(user: Actor): Promise<string> {
    const id = await workbenchOf(user);
    const state = id ? await workbenchesOf(deps).load(id) : undefined;
    const status = state?.status ?? 'absent';
    // A settled status the backend agrees with: a live one has its run (and only it) alive; any other, nothing.
    expect(compute.liveOf(user.caller.sub)).toEqual(state && liveStatuses.includes(status) ? [state.run_id] : []);
    if (status === 'provisioning') expect(state?.start_by).toBeDefined();
    // The slot: held while the workbench exists (a create that died before its write frees it at the next claim).
    const slots = await store.get(workbenchKeys.slots(user.caller.sub));
    const members = [...((slots?.members as Set<string> | undefined) ?? [])];
    if (state && status !== 'deleted') expect(members).toEqual([state.id]);
    else expect(members.filter((m) => m === id)).toEqual([]);
    // A live run's auto-stop exists.
    if (state?.stop_id && liveStatuses.includes(status)) expect([...scheduler.calls.values()].some((c) => c.target === 'workbench-auto-stop' && c.payload.stop_id === state.stop_id)).toBe(true);
    return status;
  }

  async function cleanUp(user: Actor): Promise<void> {
    const id = await workbenchOf(user);
    if (id) await ignoringRefusals(deleteWorkbench(deps, user, id));
    expect(compute.liveOf(user.caller.sub)).toEqual([]);
    // After delete, a new workbench fits the limit of 1 again.
    const next = await createWorkbench(deps, user, small);
    await deleteWorkbench(deps, user, next.id);
    expect(compute.liveOf(user.caller.sub)).toEqual([]);
  }

  describe('AWS faults (issue 21)', () => {
    const throttled = () => dependencyUnavailable('Amazon ECS', awsError('ThrottlingException', 400));

    it('a create whose launch ECS throttled keeps its intent (202 provisioning), and a read launches it', async () => {
      const user = fresh();
      compute.startError = throttled();
      const created = await createWorkbench(deps, user, small).finally(() => (compute.startError = undefined));
      expect(created.status).toBe('provisioning');
      expect(compute.liveOf(user.caller.sub)).toEqual([]);
      const read = await readWorkbench(deps, user, created.id);
      expect(compute.liveOf(user.caller.sub)).toEqual([created.run_id]);
      expect(read.task_arn).toMatch(new RegExp(`${created.run_id}$`));
      await deleteWorkbench(deps, user, created.id);
    });

    it('a start ECS throttled answers 503 dependency_unavailable, keeps its intent, and the retry launches it', async () => {
      const user = fresh();
      const id = await running(user);
      await stopWorkbench(deps, user, id);
      compute.startError = throttled();
      await expect(startWorkbench(deps, user, id)).rejects.toMatchObject({ code: 'dependency_unavailable', headers: { 'retry-after': '5' } });
      compute.startError = undefined;
      const intent = await workbenchesOf(deps).load(id);
      expect(intent.status).toBe('provisioning');
      const retried = await startWorkbench(deps, user, id);
      expect(retried.task_arn).toBeDefined();
      expect(compute.liveOf(user.caller.sub)).toEqual([intent.run_id]);
      await deleteWorkbench(deps, user, id);
    });

    it('a first start the backend refused fails the workbench and leaves no auto-stop behind', async () => {
      const user = fresh();
      compute.failStart = true;
      await expect(createWorkbench(deps, user, small)).rejects.toMatchObject({ code: 'backend_unavailable' });
      compute.failStart = false;
      const id = (await workbenchOf(user)) ?? '';
      expect((await workbenchesOf(deps).load(id)).status).toBe('failed');
      expect([...scheduler.calls.values()].filter((c) => c.target === 'workbench-auto-stop' && c.payload.workbench === id)).toEqual([]);
      await deleteWorkbench(deps, user, id);
    });

    it('a dedicated instance is waited for (pending_instance), then the task is placed and recorded', async () => {
      const user = fresh();
      compute.instancesRegistered = false;
      const created = await createWorkbench(deps, user, { ...small, dedicated_instance: true });
      expect(created.status).toBe('pending_instance');
      expect(created.instance_id).toMatch(/^i-/);
      expect((await readWorkbench(deps, user, created.id)).status).toBe('pending_instance');
      compute.instancesRegistered = true;
      const placed = await readWorkbench(deps, user, created.id);
      expect(placed).toMatchObject({ status: 'provisioning', task_arn: expect.stringMatching(new RegExp(`${created.run_id}$`)) });
      compute.set(created.id, 'running');
      expect((await readWorkbench(deps, user, created.id)).status).toBe('running');
      await deleteWorkbench(deps, user, created.id);
    });

    it('an instance that never registers fails the workbench at its start deadline, and stops it', async () => {
      const user = fresh();
      compute.instancesRegistered = false;
      const created = await createWorkbench(deps, user, { ...small, dedicated_instance: true });
      clock.advance(20 * 60_000);
      const late = await readWorkbench(deps, user, created.id);
      compute.instancesRegistered = true;
      expect(late).toMatchObject({ status: 'failed', reason: expect.stringMatching(/in time/) });
      await deleteWorkbench(deps, user, created.id);
    });
  });

  const outcomes: string[] = [];
  afterAll(() => {
    process.stdout.write(`workbench crash outcomes\n${outcomes.join('\n')}\n`);
  });

  describe.each(Object.keys(operations))('%s', (name) => {
    const operation = operations[name] as Operation;
    it.each(['before', 'after'] as const)('crashing %s each port call converges', async (when) => {
      let crashes = 0;
      for (let at = 1; at <= 30; at++) {
        const user = fresh();
        const id = await operation.setup(user);
        const plan: Plan = { at, when, calls: 0, dead: false };
        const crashed: WorkbenchDeps = { ...deps, store: crashing(store as Store, plan), scheduler: crashing(scheduler as Scheduler, plan), workbenchCompute: crashing(compute as WorkbenchCompute, plan) };
        try {
          await operation.run(crashed, { ...user, requestId: `op-${at}` }, id);
        } catch (error) {
          // A crash the use case wrapped (a backend call's failure becomes a 503) is still the crash.
          if (!(error instanceof Crash) && !plan.dead) throw error;
        }
        await recover(operation, user, id);
        outcomes.push(`${name}, ${plan.dead ? `${when}, call ${at}` : `no crash (${plan.calls} calls)`}: ${await expectConsistent(user)}`);
        await cleanUp(user);
        if (!plan.dead) break;
        crashes++;
      }
      expect(crashes).toBeGreaterThan(0);
      expect(crashes).toBeLessThan(30);
    });
  });
});
