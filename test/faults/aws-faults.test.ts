import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { Ec2ClusterCompute } from '../../src/adapters/aws/ec2-compute.js';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import { SecretsManagerKeyVault } from '../../src/adapters/aws/secret-key-vault.js';
import { TablePublicKeys } from '../../src/adapters/aws/table-public-keys.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { systemCaller } from '../../src/domain/levels.js';
import { checkDeadline, clustersOf, scheduledDestroy, sweepClusters } from '../../src/operations/clusters/use-cases.js';
import { instanceStateHandler } from '../../src/operations/clusters/instance-events.js';
import { rotateSigningKeys } from '../../src/operations/rotate-keys.js';
import { deploymentSlotsKey } from '../../src/store/keys.js';
import { VaultKeys } from '../../src/tokens/key-service.js';
import { publicJwks, parseKeySet } from '../../src/tokens/keys.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { awsError, FakeEc2, FakeEventBridge, Faults, injectDynamoFaults, socketReset, timeout } from '../support/fake-aws.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/**
 * Issue 10, point 7: the real AWS adapters (EC2, Scheduler, Secrets Manager behind
 * aws-sdk-client-mock; DynamoDB on dynalite) failing under the API. A failing dependency answers 503
 * `dependency_unavailable` with Retry-After and no stack; reads answer from the store; the state
 * stays one the next call or the janitor settles; no instance outlives its deployment.
 */
const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const github = new FakeGitHub();
const ec2 = new FakeEc2(clock);
const eventBridge = new FakeEventBridge();
const secrets = mockClient(SecretsManagerClient);
const secretFaults = new Faults();
let secretValue = '{"keys":[]}';
let dynamo: LocalDynamo;
let store: DynamoStore;
let dynamoFaults: Faults;
let api: TestApi;
const token = { olga: '', alice: '' };
const log = { debug() {}, info() {}, warn() {}, error() {} };
const janitor = { caller: systemCaller('scheduler'), requestId: 'janitor', log };
const vault = new SecretsManagerKeyVault(new SecretsManagerClient({ region: 'us-east-1' }), 'arn:aws:secretsmanager:us-east-1:1:secret:keys');
const ec2Backend = { kind: 'ec2', launch_template: 'lt-0abc12345678' };

beforeAll(async () => {
  secrets.on(GetSecretValueCommand).callsFake(() => secretFaults.run('GetSecretValue', () => ({ SecretString: secretValue })));
  secrets.on(PutSecretValueCommand).callsFake((input: { SecretString: string }) =>
    secretFaults.run('PutSecretValue', () => {
      secretValue = input.SecretString;
      return {};
    }),
  );
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  ({ dynamo, store } = await startTestStore(clock));
  dynamoFaults = injectDynamoFaults(dynamo.client);
  await rotateSigningKeys({}, { vault, publisher: new TablePublicKeys(store, clock), clock });
  api = await startTestApi({
    clock,
    deps: {
      store,
      compute: new Ec2ClusterCompute('Provisioner', { table: store, clock, makeClient: (sdk) => new sdk.EC2Client({ region: 'us-east-1' }) }),
      scheduler: new EventBridgeScheduler(
        {
          groupName: 'provisioner',
          roleArn: 'arn:aws:iam::1:role/scheduler',
          targets: { destroy: 'arn:aws:lambda:us-east-1:1:function:destroy', 'check-deadline': 'arn:aws:lambda:us-east-1:1:function:check-deadline' },
        },
        (sdk) => new sdk.SchedulerClient({ region: 'us-east-1' }),
      ),
      keyRing: new VaultKeys(vault, clock, 600_000),
      publicKeys: new TablePublicKeys(store, clock),
    },
    env: {
      PROVISIONER_MEMORY: '1',
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog({
        ...testCatalog,
        limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 2 } },
        clusters: [
          ...testCatalog.clusters,
          { name: 'acme-ec2', visibility: 'private', backend: ec2Backend },
          { name: 'demo-ec2', visibility: 'public', backend: ec2Backend },
        ],
      }),
    },
  });
  for (const login of ['olga', 'alice'] as const) token[login] = (await api.call('POST', '/v1/login', { body: { github_token: `gh-${login}` } })).body.token;
});
afterAll(async () => {
  await api.close();
  await dynamo.close();
  await github.stop();
});

const get = (cluster: string) => api.call('GET', `/v1/clusters/${cluster}`, { token: token.alice });
const list = () => api.call('GET', '/v1/clusters', { token: token.alice });
const deploy = (cluster: string, as: keyof typeof token, body: unknown = { nodes: 2 }) => api.call('POST', `/v1/clusters/${cluster}/deploy`, { token: token[as], body });
const destroy = (cluster: string, as: keyof typeof token) => api.call('POST', `/v1/clusters/${cluster}/destroy`, { token: token[as] });
const schedule = (cluster: string, body: unknown) => api.call('PUT', `/v1/clusters/${cluster}/destroy-schedule`, { token: token.olga, body });
const stored = (cluster: string) => clustersOf({ store, clock }).load(cluster);
const deps = () => api.runtime.deps;

/** 503 `dependency_unavailable`, a Retry-After, and nothing but the code and a message. */
function expectUnavailable(response: { status: number; headers: Headers; body: any }): void {
  expect(response.status).toBe(503);
  expect(response.body.error.code).toBe('dependency_unavailable');
  expect(Object.keys(response.body.error).sort()).toEqual(['code', 'message']);
  expect(response.body.error.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d/);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
}

/** Fires every schedule whose payload the cluster no longer points at: each must change nothing. */
async function staleSchedulesAreNoOps(): Promise<void> {
  for (const s of [...eventBridge.schedules.values()]) {
    const before = await stored(s.payload.cluster ?? '');
    if (s.payload.check_id !== undefined && s.payload.check_id !== before.check_id) {
      await checkDeadline(deps(), janitor, before.name, s.payload.check_id);
    } else if (s.payload.schedule_id !== undefined && s.payload.schedule_id !== before.schedule_id) {
      expect(await scheduledDestroy(deps(), janitor, before.name, s.payload.schedule_id)).toBe('stale');
    } else {
      continue;
    }
    expect((await stored(before.name)).version).toBe(before.version);
  }
}

/** The state the issue asks for once the faults are gone: every started instance is owned by an active deployment or terminated, and more. */
async function expectConsistent(): Promise<void> {
  const active = new Map<string, { name: string; nodes: number; status: string }>();
  for (const name of ['acme-ec2', 'demo-ec2']) {
    const state = await stored(name);
    if (state.deployment_id && (state.status === 'deploying' || state.status === 'running')) active.set(state.deployment_id, { name, nodes: state.nodes ?? 0, status: state.status });
    // The trail: versions 1..n, each event starting where the one before ended, the last at the current status.
    const events = (await clustersOf({ store, clock }).trail(name, 100)).items.reverse();
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: state.version }, (_, i) => i + 1));
    events.forEach((e, i) => i > 0 && expect(e.from).toBe(events[i - 1]?.to));
    if (events.length > 0) expect(events.at(-1)?.to).toBe(state.status);
  }
  for (const instance of ec2.alive()) expect(active.get(instance.deployment ?? '')?.name).toBe(instance.cluster);
  for (const [deploymentId, { nodes, status }] of active) {
    if (status === 'running') expect(ec2.alive().filter((i) => i.deployment === deploymentId)).toHaveLength(nodes);
  }
  // Olga's slots: exactly her clusters on their way or deployed.
  const slots = (await store.get(deploymentSlotsKey('github:olga')))?.members as Set<string> | undefined;
  const hers = [];
  for (const name of ['acme-ec2', 'demo-ec2']) {
    const state = await stored(name);
    if (state.deployed_by === 'github:olga' && ['deploying', 'running', 'destroying'].includes(state.status)) hers.push(name);
  }
  expect([...(slots ?? [])].sort()).toEqual(hers);
  await staleSchedulesAreNoOps();
}

describe('DynamoDB failing', () => {
  it.each([
    ['throttled (ProvisionedThroughputExceededException)', () => awsError('ProvisionedThroughputExceededException', 400)],
    ['throttled (ThrottlingException)', () => awsError('ThrottlingException', 400)],
    ['a 5xx (InternalServerError)', () => awsError('InternalServerError', 500)],
    ['timing out', timeout],
    ['resetting the connection', socketReset],
  ])('%s: a read and a deploy answer 503 and change nothing; the retry succeeds', async (_what, fault) => {
    dynamoFaults.next('GetItemCommand', fault());
    expectUnavailable(await get('acme-ec2'));

    // The deploy's store calls fail: whatever it made ahead (schedules, its slot) must not outlive it.
    const before = await stored('acme-ec2');
    dynamoFaults.next(before.version === 0 ? 'PutItemCommand' : 'UpdateItemCommand', fault(), { times: before.version === 0 ? 1 : 2 });
    expectUnavailable(await deploy('acme-ec2', 'olga'));
    dynamoFaults.clear();
    expect(await stored('acme-ec2')).toEqual(before);
    expect(ec2.alive()).toEqual([]);

    expect((await deploy('acme-ec2', 'olga')).status).toBe(202);
    expect((await get('acme-ec2')).body.status).toBe('running');
    await expectConsistent();
    expect((await destroy('acme-ec2', 'olga')).body.status).toBe('absent');
    await expectConsistent();
  });
});

describe('EC2 and the Scheduler failing', () => {
  it('a deploy whose schedule cannot be made answers 503 and starts nothing', async () => {
    eventBridge.faults.next('CreateSchedule', awsError('ThrottlingException', 400));
    expectUnavailable(await deploy('acme-ec2', 'olga'));
    expect((await stored('acme-ec2')).status).toBe('absent');
    expect(ec2.alive()).toEqual([]);
    await expectConsistent();
  });

  it('a throttled launch answers 503, fails the deployment and frees its slot; the next deploy starts it', async () => {
    ec2.faults.next('RunInstances', awsError('RequestLimitExceeded', 503));
    expectUnavailable(await deploy('acme-ec2', 'olga'));
    expect((await stored('acme-ec2')).status).toBe('failed');
    await expectConsistent();
    expect((await deploy('acme-ec2', 'olga')).status).toBe(202);
    await expectConsistent();
  });

  it('a launch that started its instances but timed out (instances started, record not updated) leaves none behind', async () => {
    ec2.faults.next('RunInstances', timeout(), { when: 'after' });
    const startedBefore = ec2.started().length;
    expectUnavailable(await deploy('demo-ec2', 'alice'));
    expect(ec2.started().length).toBe(startedBefore + 2);
    expect((await stored('demo-ec2')).status).toBe('failed');
    expect(ec2.alive().filter((i) => i.cluster === 'demo-ec2')).toEqual([]);
    await expectConsistent();
  });

  it('reads and lists answer 200 from the store while EC2 and the Scheduler fail, and record progress once they answer', async () => {
    ec2.faults.next('DescribeInstances', awsError('InternalError', 500), { times: 3 });
    eventBridge.faults.next('DeleteSchedule', timeout(), { times: 3 });
    const read = await get('acme-ec2');
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('deploying');
    const listed = await list();
    expect(listed.status).toBe(200);
    expect(listed.body.items.find((c: { name: string }) => c.name === 'acme-ec2').status).toBe('deploying');
    // EC2 answers again, the Scheduler does not: the progress is recorded all the same.
    ec2.faults.clear();
    const running = await get('acme-ec2');
    expect(running.status).toBe(200);
    expect(running.body.status).toBe('running');
    eventBridge.faults.clear();
    await expectConsistent();
  });

  it('a reschedule answers 503 when its new schedule cannot be made (nothing changes) or the old one cannot be removed (that one is stale)', async () => {
    const at = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const before = await stored('acme-ec2');
    eventBridge.faults.next('CreateSchedule', awsError('InternalServerException', 500));
    expectUnavailable(await schedule('acme-ec2', { at }));
    expect(await stored('acme-ec2')).toEqual(before);

    eventBridge.faults.next('DeleteSchedule', awsError('ThrottlingException', 400));
    expectUnavailable(await schedule('acme-ec2', { at }));
    const after = await stored('acme-ec2');
    expect(after.destroy_at).toBe(at);
    await expectConsistent();
    expect((await schedule('acme-ec2', { at })).status).toBe(200);
    await expectConsistent();
  });

  it('a destroy whose terminate is throttled answers 503; reads still answer; the janitor finishes it', async () => {
    ec2.faults.next('TerminateInstances', awsError('RequestLimitExceeded', 503));
    expectUnavailable(await destroy('acme-ec2', 'olga'));
    expect((await stored('acme-ec2')).status).toBe('destroying');
    ec2.faults.next('DescribeInstances', timeout());
    expect((await get('acme-ec2')).status).toBe(200);

    clock.advance(60_000);
    await sweepClusters(deps(), janitor);
    expect((await stored('acme-ec2')).status).toBe('absent');
    expect(ec2.alive()).toEqual([]);
    await expectConsistent();
  });

  it('the janitor meeting a failing EC2 gives up with 503 and converges on its next run', async () => {
    expect((await deploy('acme-ec2', 'olga')).status).toBe(202);
    const deploymentId = (await stored('acme-ec2')).deployment_id;
    // The record is lost (as if a crash came between the launch and the write): the instances are strays.
    const clusters = clustersOf({ store, clock });
    await clusters.commit('acme-ec2', await clusters.load('acme-ec2'), { set: { status: 'failed', reason: 'test' }, action: 'failed', author: { sub: 'system', requestId: 't' } });
    clock.advance(60_000);
    ec2.faults.next('TerminateInstances', awsError('RequestLimitExceeded', 503));
    await expect(sweepClusters(deps(), janitor)).rejects.toMatchObject({ code: 'dependency_unavailable' });
    expect(ec2.alive().map((i) => i.deployment)).toContain(deploymentId);
    const { swept } = await sweepClusters(deps(), janitor);
    expect(swept.map((s) => s.deploymentId)).toEqual([deploymentId]);
    expect(ec2.alive()).toEqual([]);
    await deploy('acme-ec2', 'olga');
    await destroy('acme-ec2', 'olga');
    await expectConsistent();
  });
});

describe('the instance map and drift events failing', () => {
  const ec2Compute = () => deps().compute as Ec2ClusterCompute;
  const stateChange = (instance: string, state: string) => ({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: { 'instance-id': instance, state } });

  it('a launch whose instance map cannot be written answers 503, fails the deployment and leaves no instance behind', async () => {
    // Arrange: the map's writes go through a client of their own, throttled once.
    const mapClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const mapFaults = injectDynamoFaults(mapClient);
    const launching = deps().compute;
    deps().compute = new Ec2ClusterCompute('Provisioner', { table: new DynamoStore(mapClient, 'provisioner-test', clock), clock, makeClient: (sdk) => new sdk.EC2Client({ region: 'us-east-1' }) });
    mapFaults.next('PutItemCommand', awsError('ProvisionedThroughputExceededException', 400));
    const startedBefore = ec2.started().length;

    // Act
    const response = await deploy('demo-ec2', 'alice');
    deps().compute = launching;
    mapClient.destroy();

    // Assert: the instances were started, then removed with the failed deployment.
    expectUnavailable(response);
    expect(ec2.started().length).toBe(startedBefore + 2);
    expect((await stored('demo-ec2')).status).toBe('failed');
    expect(ec2.alive().filter((i) => i.cluster === 'demo-ec2')).toEqual([]);
    await expectConsistent();
  });

  it('a drift event meeting a failing table or EC2 throws 503 (EventBridge retries it) and changes nothing; the retry records it', async () => {
    // Arrange: acme-ec2 running, one of its instances stopped outside Provisioner.
    expect((await deploy('acme-ec2', 'olga')).status).toBe(202);
    expect((await get('acme-ec2')).body.status).toBe('running');
    const before = await stored('acme-ec2');
    const [instance] = ec2.alive().filter((i) => i.cluster === 'acme-ec2');
    const stopped = ec2.instances.get(instance?.id ?? '');
    if (stopped) stopped.State = { Name: 'stopped' };
    // The test API installs its runtime's deps for every handler: the drift handler's owners join them.
    Object.assign(deps(), { machineOwners: ec2Compute() });
    const handler = instanceStateHandler({ store: () => store, clock: () => clock, catalog: () => deps().catalog, scheduler: () => deps().scheduler, machineOwners: ec2Compute });

    // Act / Assert: the map cannot be read; then EC2 cannot confirm the loss.
    dynamoFaults.next('GetItemCommand', timeout());
    await expect(handler(stateChange(instance?.id ?? '', 'stopped'))).rejects.toMatchObject({ code: 'dependency_unavailable' });
    ec2.faults.next('DescribeInstances', awsError('RequestLimitExceeded', 503));
    await expect(handler(stateChange(instance?.id ?? '', 'stopped'))).rejects.toMatchObject({ code: 'dependency_unavailable' });
    expect(await stored('acme-ec2')).toEqual(before);

    // Act / Assert: the retry.
    expect(await handler(stateChange(instance?.id ?? '', 'stopped'))).toEqual({ cluster: 'acme-ec2', status: 'degraded' });

    expect((await destroy('acme-ec2', 'olga')).status).toBe(200);
    expect((await stored('acme-ec2')).status).toBe('absent');
    await expectConsistent();
  });
});

describe('Secrets Manager failing', () => {
  it('a login answers 503 while the secret cannot be read, and 200 once it can', async () => {
    deps().keyRing = new VaultKeys(vault, clock, 600_000);
    secretFaults.next('GetSecretValue', awsError('ThrottlingException', 400));
    expectUnavailable(await api.call('POST', '/v1/login', { body: { github_token: 'gh-olga' } }));
    const again = await api.call('POST', '/v1/login', { body: { github_token: 'gh-olga' } });
    expect(again.status).toBe(200);
    expect((await api.call('GET', '/v1/clusters', { token: again.body.token })).status).toBe(200);
  });

  it('a rotation whose write lost its answer fails with 503; the next run publishes exactly the stored keys', async () => {
    const publisher = new TablePublicKeys(store, clock);
    secretFaults.next('PutSecretValue', timeout(), { when: 'after' });
    await expect(rotateSigningKeys({ action: 'rotate' }, { vault, publisher, clock })).rejects.toMatchObject({ code: 'dependency_unavailable' });
    await rotateSigningKeys({ action: 'ensure' }, { vault, publisher, clock });
    expect(await new TablePublicKeys(store, clock).jwks(true)).toEqual(publicJwks(parseKeySet(secretValue)));
  });
});
