import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { LocalProcessCompute } from '../../src/adapters/local/process-compute.js';
import type { ClusterEntry } from '../../src/domain/catalog.js';
import { until } from '../support/api-process.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';

const server = "require('http').createServer((q, r) => r.end('node ' + process.env.NODE_INDEX + ' ' + process.env.CLUSTER_VERSION)).listen(Number(process.env.PORT), '127.0.0.1')";
const cluster: ClusterEntry = { name: 'local-test', visibility: 'public', backend: { kind: 'local', command: [process.execPath, '-e', server] } };

describe('the local process backend', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  let compute: LocalProcessCompute;

  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(new ManualClock()));
    compute = new LocalProcessCompute(store, { api: () => ({ issuer: 'http://127.0.0.1:1', jwksUrl: 'http://127.0.0.1:1/jwks' }), detached: false, owner: 'process-compute-test' });
  });
  afterAll(async () => {
    compute.stopAll();
    await dynamo.close();
  });

  it('starts one process per node on its own port, reports running, and stops them all', async () => {
    const deployment = { cluster, deploymentId: 'dep-a' };
    await compute.deploy({ ...deployment, nodes: 2, version: 'x' });
    await compute.deploy({ ...deployment, nodes: 2, version: 'x' }); // idempotent: nothing new
    const running = await until('running', () => compute.status(deployment), (s) => s.state === 'running', 10_000);
    expect(running.endpoints).toHaveLength(2);
    expect(new Set(running.endpoints).size).toBe(2);
    expect(await Promise.all(running.endpoints.map(async (url) => (await fetch(url)).text()))).toEqual(['node 0 x', 'node 1 x']);
    await compute.destroy(deployment);
    expect(await compute.status(deployment)).toEqual({ state: 'gone', endpoints: [] });
    await until('stopped', async () => fetch(running.endpoints[0] ?? '').then(() => 'up', () => 'down'), (s) => s === 'down', 5_000);
  });

  it('never takes a reused pid for its own node, nor signals it', async () => {
    // As after a reboot: the recorded pid now belongs to another program, started at another time, without our tags.
    const stranger = spawn(process.execPath, ['-e', server], { env: { ...process.env, PORT: String(await freePort()), NODE_INDEX: 'stranger' }, stdio: 'ignore' });
    try {
      await store.createIfAbsent({ pk: 'localdeploy#dep-b', sk: 'nodes', cluster: cluster.name, wanted: 1, complete: true, nodes: [{ pid: stranger.pid, port: 1, started: '1' }] });
      const deployment = { cluster, deploymentId: 'dep-b' };
      expect(await compute.status(deployment)).toMatchObject({ state: 'degraded', reason: 'node 0 exited' });
      await compute.destroy(deployment);
      expect(stranger.exitCode).toBeNull();
      expect(stranger.killed).toBe(false);
      expect(alivePid(stranger.pid)).toBe(true);
    } finally {
      stranger.kill();
    }
  });

  it('reports a running deployment whose node exited as degraded; a repair starts that node again, at its version', async () => {
    // Arrange
    const deployment = { cluster, deploymentId: 'dep-g' };
    expect(compute.driftOnRead).toBe(true);
    await compute.deploy({ ...deployment, nodes: 2, version: 'v7.1' });
    await until('running', () => compute.status(deployment), (s) => s.state === 'running', 10_000);
    const record = await store.get({ pk: 'localdeploy#dep-g', sk: 'nodes' });
    const [first, second] = record?.nodes as { pid: number; port: number }[];
    process.kill(second?.pid ?? 0, 'SIGKILL');

    // Act
    // (Until the killed process is reaped it may still look alive, its port closed: pending.)
    const degraded = await until('degraded', () => compute.status(deployment), (s) => s.state === 'degraded', 5_000);
    await compute.deploy({ ...deployment, nodes: 2, version: 'v7.1', repair: 'repair-1' });
    const repaired = await until('repaired', () => compute.status(deployment), (s) => s.state === 'running', 10_000);

    // Assert: the same first node, a new second one, both at the deployment's version.
    expect(degraded).toMatchObject({ state: 'degraded', reason: 'node 1 exited' });
    const after = (await store.get({ pk: 'localdeploy#dep-g', sk: 'nodes' }))?.nodes as { pid: number }[];
    expect(after[0]?.pid).toBe(first?.pid);
    expect(after[1]?.pid).not.toBe(second?.pid);
    expect(await Promise.all(repaired.endpoints.map(async (url) => (await fetch(url)).text()))).toEqual(['node 0 v7.1', 'node 1 v7.1']);
    await compute.destroy(deployment);
  });

  it('answers at once and starts nodes in the background; a destroy meanwhile leaves no node behind', async () => {
    const deployment = { cluster, deploymentId: 'dep-c' };
    await compute.deploy({ ...deployment, nodes: 8, version: 'v1' });
    expect((await compute.status(deployment)).state).toBe('pending'); // never gone while starting
    await compute.destroy(deployment);
    expect(await compute.status(deployment)).toEqual({ state: 'gone', endpoints: [] });
    await until('no node left', async () => taggedPids('dep-c').filter(alivePid).length, (n) => n === 0, 5_000);
  });

  it('after a crash mid-start, reports the deployment failed, and a sweep kills even nodes it never recorded', async () => {
    // Arrange: a deployment a previous run began and never finished, and an untracked node tagged as ours.
    await store.createIfAbsent({ pk: 'localdeploy#dep-d', sk: 'nodes', gsi1pk: 'localdeploys', gsi1sk: 'dep-d', cluster: cluster.name, wanted: 3, nodes: [], complete: false, created_at: '2026-01-01T00:00:00.000Z' });
    const orphan = spawn(process.execPath, ['-e', server], { env: { ...process.env, PORT: String(await freePort()), PROVISIONER_DEPLOYMENT: 'dep-e', PROVISIONER_RUNTIME: 'process-compute-test' }, stdio: 'ignore', detached: false });
    const foreign = spawn(process.execPath, ['-e', server], { env: { ...process.env, PORT: String(await freePort()), PROVISIONER_DEPLOYMENT: 'dep-f', PROVISIONER_RUNTIME: 'another-runtime' }, stdio: 'ignore' });
    const restarted = new LocalProcessCompute(store, { api: () => ({ issuer: 'http://127.0.0.1:1', jwksUrl: 'http://127.0.0.1:1/jwks' }), detached: false, owner: 'process-compute-test' });
    try {
      await until('orphan up', async () => taggedPids('dep-e').length, (n) => n === 1, 5_000);
      expect(await restarted.status({ cluster, deploymentId: 'dep-d' })).toMatchObject({ state: 'failed', reason: expect.stringContaining('stopped while') });

      // Act
      const swept = await restarted.sweep(new Set(['dep-a']), new Date());

      // Assert: the stale record and the orphan are gone; another runtime's node is untouched.
      expect(swept.map((s) => s.deploymentId).sort()).toEqual(['dep-d', 'dep-e']);
      expect(await restarted.status({ cluster, deploymentId: 'dep-d' })).toEqual({ state: 'gone', endpoints: [] });
      await until('orphan killed', async () => alivePid(orphan.pid), (up) => !up, 5_000);
      expect(alivePid(foreign.pid)).toBe(true);
    } finally {
      orphan.kill();
      foreign.kill();
    }
  });
});

function alivePid(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Pids whose environment carries the deployment's tag. */
function taggedPids(deploymentId: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`PROVISIONER_DEPLOYMENT=${deploymentId}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
