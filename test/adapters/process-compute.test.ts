import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { LocalProcessCompute } from '../../src/adapters/local/process-compute.js';
import type { ClusterEntry } from '../../src/domain/catalog.js';
import { until } from '../support/api-process.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';

const server = "require('http').createServer((q, r) => r.end('node ' + process.env.NODE_INDEX)).listen(Number(process.env.PORT), '127.0.0.1')";
const cluster: ClusterEntry = { name: 'local-test', visibility: 'public', backend: { kind: 'local', command: [process.execPath, '-e', server] } };

describe('the local process backend', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  let compute: LocalProcessCompute;

  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(new ManualClock()));
    compute = new LocalProcessCompute(store, { api: () => ({ issuer: 'http://127.0.0.1:1', jwksUrl: 'http://127.0.0.1:1/jwks' }), detached: false });
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
    expect(await Promise.all(running.endpoints.map(async (url) => (await fetch(url)).text()))).toEqual(['node 0', 'node 1']);
    await compute.destroy(deployment);
    expect(await compute.status(deployment)).toEqual({ state: 'gone', endpoints: [] });
    await until('stopped', async () => fetch(running.endpoints[0] ?? '').then(() => 'up', () => 'down'), (s) => s === 'down', 5_000);
  });

  it('never takes a reused pid for its own node, nor signals it', async () => {
    const deployment = { cluster, deploymentId: 'dep-b' };
    await compute.deploy({ ...deployment, nodes: 1, version: 'x' });
    const running = await until('running', () => compute.status(deployment), (s) => s.state === 'running', 10_000);
    // As after a reboot: the recorded pid now belongs to a process that started at another time.
    const record = await store.get({ pk: 'localdeploy#dep-b', sk: 'nodes' });
    const nodes = (record?.nodes as { pid: number; port: number; started: string }[]).map((n) => ({ ...n, started: '1' }));
    await store.put({ pk: 'localdeploy#dep-b', sk: 'nodes', cluster: cluster.name, nodes });
    expect((await compute.status(deployment)).state).toBe('failed');
    await compute.destroy(deployment);
    expect(await (await fetch(running.endpoints[0] ?? '')).text()).toBe('node 0');
  });
});
