import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServiceNotFoundException,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsWorkspaces } from '../../src/adapters/aws/ecs-workspaces.js';
import type { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { systemCaller } from '../../src/domain/levels.js';
import { sweepWorkspaces, type WorkspaceDeps } from '../../src/operations/workspaces/use-cases.js';
import { awsError, Faults } from '../support/fake-aws.js';
import { FakeGitHub } from '../support/fake-github.js';
import { ManualClock } from '../support/dynamo.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/**
 * Issue 21, part 2: the real ECS workspace adapter (ECS behind aws-sdk-client-mock, a small model of
 * services and task definitions) failing under the API. A throttled ECS answers 503
 * `dependency_unavailable` with Retry-After; reads answer from the store; what was saved before the
 * failure stays, and a retried request or the janitor finishes it.
 */
const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const github = new FakeGitHub();
const ecs = mockClient(ECSClient);
const faults = new Faults();
const services = new Map<string, { status: 'ACTIVE' | 'INACTIVE'; serviceArn: string }>();
const definitions = new Map<string, 'ACTIVE' | 'INACTIVE'>();
const throttled = () => awsError('ThrottlingException', 400);
const ecsBackend = { kind: 'ecs', subnets: ['subnet-0123456789abcdef0'], security_groups: ['sg-0123456789abcdef0'] };
const catalogJson = { ...testCatalog, workspaces: { backend: ecsBackend } };
let api: TestApi;
let olga = '';

beforeAll(async () => {
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: { family: string }) => faults.run('RegisterTaskDefinition', () => {
    const arn = `arn:aws:ecs:us-east-1:1:task-definition/${input.family}:${definitions.size + 1}`;
    definitions.set(arn, 'ACTIVE');
    return { taskDefinition: { taskDefinitionArn: arn } };
  }));
  ecs.on(CreateServiceCommand).callsFake((input: { serviceName: string }) => faults.run('CreateService', () => {
    services.set(input.serviceName, { status: 'ACTIVE', serviceArn: `arn:aws:ecs:us-east-1:1:service/workspaces/${input.serviceName}` });
    return {};
  }));
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => faults.run('DescribeServices', () => ({
    services: input.services.flatMap((name) => {
      const found = services.get(name);
      return found ? [{ serviceName: name, ...found, runningCount: 0, deployments: [] }] : [];
    }),
  })));
  ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  ecs.on(TagResourceCommand).callsFake(() => faults.run('TagResource', () => ({})));
  ecs.on(DeleteServiceCommand).callsFake((input: { service: string }) => faults.run('DeleteService', () => {
    const found = services.get(input.service);
    if (!found || found.status === 'INACTIVE') throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} });
    found.status = 'INACTIVE';
    return {};
  }));
  ecs.on(ListTaskDefinitionsCommand).callsFake((input: { familyPrefix: string }) => faults.run('ListTaskDefinitions', () => ({
    taskDefinitionArns: [...definitions].filter(([arn, status]) => status === 'ACTIVE' && arn.includes(`/${input.familyPrefix}:`)).map(([arn]) => arn),
  })));
  ecs.on(DeregisterTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => faults.run('DeregisterTaskDefinition', () => {
    definitions.set(input.taskDefinition, 'INACTIVE');
    return {};
  }));
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  const catalog = parseCatalog(JSON.stringify(catalogJson), 'test');
  const backend = catalog.workspaces.backend;
  if (backend.kind !== 'ecs') throw new Error('an ecs backend');
  api = await startTestApi({
    clock,
    deps: {
      workspaceBackend: new EcsWorkspaces(
        { cluster: 'workspaces', backend, components: catalog.workspaces.template.components, managedBy: 'Provisioner' },
        (sdk) => new sdk.ECSClient({ region: 'us-east-1' }),
      ),
    },
    env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(catalogJson) },
  });
  olga = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-olga' } })).body.token;
});
beforeEach(() => faults.clear());
afterAll(async () => {
  await api.close();
  await github.stop();
});

const create = (body: unknown = {}) => api.call('POST', '/v1/workspaces', { token: olga, body });
const get = (id: string) => api.call('GET', `/v1/workspaces/${id}`, { token: olga });
const expectUnavailable = (response: { status: number; headers: Headers; body: { error: { code: string } } }) =>
  expect([response.status, response.body.error.code, response.headers.get('retry-after')]).toEqual([503, 'dependency_unavailable', '5']);
const activeDefinitions = (id: string) => [...definitions].filter(([arn, status]) => status === 'ACTIVE' && arn.includes(id)).length;

async function created(): Promise<string> {
  const response = await create();
  expect(response.status).toBe(202);
  return response.body.id as string;
}

describe('workspaces with ECS failing', () => {
  it('answers a read of a creating workspace from the store while ECS is throttled', async () => {
    const id = await created();
    faults.next('DescribeServices', throttled(), { times: 3 });
    const response = await get(id);
    expect([response.status, response.body.status]).toEqual([200, 'creating']);
  });

  it('answers 503 dependency_unavailable when ECS refuses a create for throttling (not backend_unavailable)', async () => {
    faults.next('RegisterTaskDefinition', throttled());
    expectUnavailable(await create());
  });

  it('extend: 503 dependency_unavailable after the new expiry was saved; a retry succeeds', async () => {
    const id = await created();
    faults.next('DescribeServices', throttled());
    const response = await api.call('PATCH', `/v1/workspaces/${id}`, { token: olga, body: { expiry: '5h' } });
    expectUnavailable(response);
    const saved = new Date(clock.now().getTime() + 5 * 3_600_000).toISOString();
    expect((await get(id)).body.expires_at).toBe(saved);
    expect((await api.call('PATCH', `/v1/workspaces/${id}`, { token: olga, body: { expiry: '5h' } })).status).toBe(200);
  });

  it('delete: 503 dependency_unavailable after `deleting` was saved; a retried DELETE drives DeleteService again and deregisters the task definitions', async () => {
    const id = await created();
    expect(activeDefinitions(id)).toBe(1);
    faults.next('DeleteService', throttled());
    expectUnavailable(await api.call('DELETE', `/v1/workspaces/${id}`, { token: olga }));
    expect((await get(id)).body.status).toBe('deleting');
    expect(services.get(`workspace-${id}`)?.status).toBe('ACTIVE');
    const retried = await api.call('DELETE', `/v1/workspaces/${id}`, { token: olga });
    expect([retried.status, retried.body.status]).toEqual([202, 'deleted']);
    expect(services.get(`workspace-${id}`)?.status).toBe('INACTIVE');
    expect(activeDefinitions(id)).toBe(0);
  });

  it('delete: the janitor finishes a deletion a throttled ECS interrupted', async () => {
    const id = await created();
    faults.next('DeleteService', throttled());
    expectUnavailable(await api.call('DELETE', `/v1/workspaces/${id}`, { token: olga }));
    faults.next('ListTaskDefinitions', throttled());
    await api.call('DELETE', `/v1/workspaces/${id}`, { token: olga });
    expect((await get(id)).body.status).toBe('deleting');
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    await sweepWorkspaces(api.runtime.deps as unknown as WorkspaceDeps, { caller: systemCaller('scheduler'), requestId: 'janitor', log });
    expect((await get(id)).status).toBe(404);
    expect(services.get(`workspace-${id}`)?.status).toBe('INACTIVE');
    expect(activeDefinitions(id)).toBe(0);
  });

  it('the timers still run: an expiry whose delete ECS throttled is finished by a retry', async () => {
    const id = (await create({ expiry: '1h' })).body.id as string;
    clock.advance(3_600_000);
    olga = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-olga' } })).body.token;
    // Earlier tests' timers fire too: every deletion of this firing fails.
    faults.next('DeleteService', throttled(), { times: 10 });
    await (api.runtime.deps.scheduler as StoreScheduler).fireDue().catch(() => undefined);
    const read = await get(id);
    expect([read.status, read.body]).toEqual([200, expect.objectContaining({ status: 'deleting' })]);
    faults.clear();
    expect((await api.call('DELETE', `/v1/workspaces/${id}`, { token: olga })).body.status).toBe('deleted');
  });
});
