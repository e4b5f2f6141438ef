import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import type { Actor } from '../../src/actor.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { type Caller, systemCaller } from '../../src/domain/levels.js';
import {
  cancelDestroy,
  checkDeadline,
  type ClusterDeps,
  clustersOf,
  deployCluster,
  destroyCluster,
  readCluster,
  scheduledDestroy,
  scheduleDestroy,
  sweepClusters,
} from '../../src/operations/clusters/use-cases.js';
import type { ClusterCompute, Deployment, DeploymentStatus, ScheduledCall, Scheduler, SweptDeployment } from '../../src/ports.js';
import { deploymentSlotsKey } from '../../src/store/keys.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { Crash, crashing, type Plan } from '../support/crash.js';

/*
 * Issue 10, point 8: every cluster operation is crashed at each awaited port call in turn (store,
 * scheduler, compute), before the call happens and after it happened but before the caller saw the
 * answer; the process is dead from then on. Then what a user and the system would do runs (the
 * request again, a read, the deadline check firing, the janitor), and the invariants must hold.
 */

/** Nodes that start and stop at once, so that the backend's truth is simple to compare with. */
class Nodes implements ClusterCompute {
  readonly deployments = new Map<string, { cluster: string; nodes: number; alive: boolean }>();
  async deploy(d: Deployment & { nodes: number }): Promise<void> {
    if (!this.deployments.has(d.deploymentId)) this.deployments.set(d.deploymentId, { cluster: d.cluster.name, nodes: d.nodes, alive: true });
  }
  async status(d: Deployment): Promise<DeploymentStatus> {
    return this.deployments.get(d.deploymentId)?.alive ? { state: 'running', endpoints: ['10.0.0.1'] } : { state: 'gone', endpoints: [] };
  }
  async destroy(d: Deployment): Promise<void> {
    const found = this.deployments.get(d.deploymentId);
    if (found) found.alive = false;
  }
  async sweep(active: ReadonlySet<string>): Promise<SweptDeployment[]> {
    const swept = [...this.deployments].filter(([id, d]) => d.alive && !active.has(id));
    for (const [, d] of swept) d.alive = false;
    return swept.map(([deploymentId, d]) => ({ cluster: d.cluster, deploymentId }));
  }
  alive(cluster: string): string[] {
    return [...this.deployments].filter(([, d]) => d.alive && d.cluster === cluster).map(([id]) => id);
  }
}

/** EventBridge Scheduler as the use cases see it: named one-time schedules, fired when due (and deleted). */
class Schedules implements Scheduler {
  readonly calls = new Map<string, ScheduledCall>();
  async schedule(call: ScheduledCall): Promise<void> {
    if (!this.calls.has(call.name)) this.calls.set(call.name, call);
  }
  async cancel(name: string): Promise<void> {
    this.calls.delete(name);
  }
  async fire(call: ScheduledCall, deps: ClusterDeps): Promise<void> {
    this.calls.delete(call.name);
    if (call.target === 'check-deadline') await checkDeadline(deps, system, call.payload.cluster, call.payload.check_id);
    if (call.target === 'destroy') await scheduledDestroy(deps, system, call.payload.cluster, call.payload.schedule_id);
  }
  async fireDue(now: Date, deps: ClusterDeps): Promise<void> {
    for (const call of [...this.calls.values()]) if (call.at.getTime() <= now.getTime()) await this.fire(call, deps);
  }
}

const log = { debug() {}, info() {}, warn() {}, error() {} };
const system: Actor = { caller: systemCaller('scheduler'), requestId: 'scheduler', log };
const admin: Actor = { caller: { sub: 'github:alice', login: 'alice', level: 'administrator', orgs: ['acme'] }, requestId: 'admin', log };
const names = Array.from({ length: 150 }, (_, i) => `c-${i}`);
const catalog = parseCatalog(
  JSON.stringify({
    organization: 'acme',
    admins: ['alice'],
    limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 2 } },
    clusters: names.map((name) => ({ name, visibility: 'private', backend: { kind: 'local' } })),
  }),
  'crash catalog',
);

const clock = new ManualClock();
const compute = new Nodes();
const scheduler = new Schedules();
let dynamo: LocalDynamo;
let store: DynamoStore;
let deps: ClusterDeps;
let next = 0;
/** Clusters whose slot outlived their deployment after a crash (freed lazily by the next claim). */
const lingering: string[] = [];

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  deps = { store, clock, catalog, scheduler, compute, clusterRules: defaultRules };
});
afterAll(() => dynamo.close());

/** A fresh cluster and a fresh org member deploying it, so that no run sees another's slots. */
function fresh(): { name: string; user: Actor } {
  const n = next++;
  const caller: Caller = { sub: `github:user${n}`, login: `user${n}`, level: 'org_member', orgs: ['acme'] };
  const name = names[n];
  if (!name) throw new Error('the catalog has too few clusters for this many runs');
  return { name, user: { caller, requestId: `setup-${n}`, log } };
}

async function running(name: string, user: Actor) {
  await deployCluster(deps, user, name, { nodes: 2 });
  const state = await readCluster(deps, user, clusterEntry(name));
  expect(state.status).toBe('running');
  return state;
}

const clusterEntry = (name: string) => catalog.clusters.find((c) => c.name === name) ?? catalog.clusters[0]!;
const ignoringRefusals = (promise: Promise<unknown>) => promise.catch((error: unknown) => {
  if (!(error instanceof ProvisionerError)) throw error;
});

interface Operation {
  /** Brings a fresh cluster to the state the operation starts from; returns what the operation needs. */
  setup(name: string, user: Actor): Promise<{ scheduleId?: string }>;
  run(d: ClusterDeps, name: string, user: Actor, setup: { scheduleId?: string }): Promise<unknown>;
}

const inTwoHours = () => new Date(clock.now().getTime() + 2 * 3_600_000);
const operations: Record<string, Operation> = {
  deploy: { setup: async () => ({}), run: (d, name, user) => deployCluster(d, user, name, { nodes: 2 }) },
  'schedule-destroy': { setup: async (name, user) => (await running(name, user), {}), run: (d, name, user) => scheduleDestroy(d, user, name, inTwoHours()) },
  'cancel-destroy': { setup: async (name, user) => (await running(name, user), {}), run: (d, name) => cancelDestroy(d, admin, name) },
  destroy: { setup: async (name, user) => (await running(name, user), {}), run: (d, name, user) => destroyCluster(d, user, name) },
  'scheduled destroy': {
    setup: async (name, user) => ({ scheduleId: (await running(name, user)).schedule_id }),
    run: (d, name, _user, { scheduleId }) => scheduledDestroy(d, system, name, scheduleId ?? ''),
  },
};

/** What a user and the system do after a crash: the request again, a read, the deadline passing (its check fires), the janitor, a read. */
async function recover(operation: Operation, name: string, user: Actor, setup: { scheduleId?: string }): Promise<void> {
  await ignoringRefusals(operation.run(deps, name, user, setup));
  await readCluster(deps, user, clusterEntry(name));
  clock.advance(deps.clusterRules.operationTimeoutMs + 60_000);
  await scheduler.fireDue(clock.now(), deps);
  // The janitor, over this cluster only: every earlier run's cluster was destroyed after its checks.
  await sweepClusters({ ...deps, catalog: { ...catalog, clusters: [clusterEntry(name)] } }, system);
  await readCluster(deps, user, clusterEntry(name));
}

/** Leaves nothing running for the next run's janitor. */
async function cleanUp(name: string): Promise<void> {
  await destroyCluster(deps, admin, name);
  expect(compute.alive(name)).toEqual([]);
}

/** The invariants of issue 10, point 8, for one cluster and its deployer. */
async function expectConsistent(name: string, user: Actor): Promise<string> {
  const clusters = clustersOf(deps);
  const state = await clusters.load(name);
  // One settled state that agrees with the backend.
  expect(['running', 'absent', 'failed']).toContain(state.status);
  expect(compute.alive(name)).toEqual(state.status === 'running' ? [state.deployment_id] : []);
  // The deployer's slots: its deployment holds one; a slot a crash kept past the deployment's end
  // (between the write and the release) is older than a deploy takes, so its next claim frees it.
  const slots = await store.get(deploymentSlotsKey(user.caller.sub));
  const members = [...((slots?.members as Set<string> | undefined) ?? [])];
  const holds = state.status === 'running' && state.deployed_by === user.caller.sub;
  if (holds) {
    expect(members).toEqual([name]);
  } else {
    for (const member of members) {
      expect(Date.parse(String(slots?.[`claimed:${member}`]))).toBeLessThan(clock.now().getTime() - deps.clusterRules.operationTimeoutMs);
      lingering.push(member);
    }
  }
  // The trail: versions 1..n, each event from where the one before ended, the last at the current status.
  const events = (await clusters.trail(name, 200)).items.reverse();
  expect(events.map((e) => e.version)).toEqual(Array.from({ length: state.version }, (_, i) => i + 1));
  events.forEach((e, i) => i > 0 && expect(e.from).toBe(events[i - 1]?.to));
  expect(events.at(-1)?.to ?? 'absent').toBe(state.status);
  // The schedules the state counts on exist (its safety net: a deadline has its check); every other one of this cluster does nothing.
  if (state.check_id && state.deadline) expect([...scheduler.calls.values()].some((c) => c.target === 'check-deadline' && c.payload.check_id === state.check_id)).toBe(true);
  if (state.schedule_id) expect([...scheduler.calls.values()].some((c) => c.target === 'destroy' && c.payload.schedule_id === state.schedule_id)).toBe(true);
  for (const call of scheduler.calls.values()) {
    const stale =
      (call.target === 'destroy' && call.payload.cluster === name && call.payload.schedule_id !== state.schedule_id) ||
      (call.target === 'check-deadline' && call.payload.cluster === name && call.payload.check_id !== state.check_id);
    if (!stale) continue;
    await scheduler.fire(call, deps);
    expect((await clusters.load(name)).version).toBe(state.version);
  }
  return state.status;
}

describe('crash consistency: a crash at every awaited port call, then recovery', () => {
  const outcomes: string[] = [];
  afterAll(() => {
    // What each crash point converged to: the measurements of the report.
    process.stdout.write(`crash outcomes (operation, timing, call: status after recovery)\n${outcomes.join('\n')}\nslots kept past their deployment: ${lingering.join(', ') || 'none'}\n`);
  });

  describe.each(Object.keys(operations))('%s', (operationName) => {
    const operation = operations[operationName]!;
    it.each(['before', 'after'] as const)('crashing %s each port call converges to one consistent state', async (when) => {
      let crashes = 0;
      for (let at = 1; at <= 30; at++) {
        const { name, user } = fresh();
        const setup = await operation.setup(name, user);
        const plan: Plan = { at, when, calls: 0, dead: false };
        const crashed = { ...deps, store: crashing(store, plan), scheduler: crashing(scheduler as Scheduler, plan), compute: crashing(compute as ClusterCompute, plan) };
        try {
          await operation.run(crashed, name, { ...user, requestId: `op-${at}` }, setup);
        } catch (error) {
          if (!(error instanceof Crash)) throw error;
        }
        if (!plan.dead) {
          // Fewer port calls than `at`: the operation completed; its own outcome must be consistent too.
          await recover(operation, name, user, setup);
          outcomes.push(`${operationName}, no crash (${plan.calls} calls): ${await expectConsistent(name, user)}`);
          await cleanUp(name);
          break;
        }
        crashes++;
        await recover(operation, name, user, setup);
        outcomes.push(`${operationName}, ${when}, call ${at}: ${await expectConsistent(name, user)}`);
        await cleanUp(name);
      }
      expect(crashes).toBeGreaterThan(0);
      expect(crashes).toBeLessThan(30);
    });
  });
});
