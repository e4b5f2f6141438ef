import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EcsWorkspaces } from '../../src/adapters/aws/ecs-workspaces.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { testCatalog } from '../support/local-api.js';
import { type Moto, startMoto } from '../support/moto.js';

/** Issue 21, part 3: the real ECS workspace adapter against moto's ECS (the real wire protocol, the real SDK). */
describe('ECS workspaces against moto', () => {
  let moto: Moto;
  let client: ECSClient;
  let ecs: EcsWorkspaces;
  const launch = {
    id: 'ws-0123456789ab',
    name: 'olga-demo',
    owner: 'github:olga',
    expiresAt: '2026-11-25T12:00:00.000Z',
    versions: { pachd: '2.6.1', console: '2.5.2-1', notebooks: '0.6.4', helm: '2.5.2' },
    environment: { PROVISIONER_VALUE_PACHD_LOGLEVEL: 'debug', PROVISIONER_VALUE_WORKSPACE_ID: 'ws-0123456789ab' },
  };
  const service = () => client.send(new DescribeServicesCommand({ cluster: 'workspaces', services: ['workspace-ws-0123456789ab'] })).then((r) => r.services?.[0]);
  const tagsOf = async (arn: string) => Object.fromEntries(((await client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? []).map((t) => [t.key, t.value]));
  const activeDefinitions = async () => (await client.send(new ListTaskDefinitionsCommand({ familyPrefix: 'provisioner-workspace-ws-0123456789ab', status: 'ACTIVE' }))).taskDefinitionArns ?? [];

  beforeAll(async () => {
    moto = await startMoto();
    client = new ECSClient(moto.clientConfig);
    await client.send(new CreateClusterCommand({ clusterName: 'workspaces' }));
    // The service's network must exist (moto checks, as AWS does).
    const ec2 = new EC2Client(moto.clientConfig);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.1.0/24' }))).Subnet?.SubnetId;
    const group = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: 'workspaces', Description: 'workspaces' }))).GroupId;
    const catalog = parseCatalog(JSON.stringify({ ...testCatalog, workspaces: { backend: { kind: 'ecs', subnets: [subnet], security_groups: [group] } } }), 'test');
    const backend = catalog.workspaces.backend;
    if (backend.kind !== 'ecs') throw new Error('an ecs backend');
    ecs = new EcsWorkspaces({ cluster: 'workspaces', backend, components: catalog.workspaces.template.components, managedBy: 'Provisioner-test' }, (sdk) => new sdk.ECSClient(moto.clientConfig));
  });
  afterAll(() => moto.stop());

  it('creates a tagged Fargate service of a tagged task definition: a container per component with an image, the values under PROVISIONER_VALUE_', async () => {
    await ecs.create(launch);
    const created = await service();
    expect(created).toMatchObject({ serviceName: 'workspace-ws-0123456789ab', status: 'ACTIVE', desiredCount: 1, launchType: 'FARGATE' });
    const expectedTags = { 'provisioner:managed': 'Provisioner-test', 'provisioner:workspace': launch.id, 'provisioner:owner': 'github:olga', 'provisioner:expires-at': launch.expiresAt };
    expect(await tagsOf(created?.serviceArn ?? '')).toEqual(expectedTags);
    const [definitionArn] = await activeDefinitions();
    const { taskDefinition, tags } = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: definitionArn, include: ['TAGS'] }));
    expect(Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]))).toEqual(expectedTags);
    expect(taskDefinition?.containerDefinitions?.map((c) => c.image)).toEqual(['pachyderm/pachd:2.6.1', 'pachyderm/haberdashery:2.5.2-1', 'pachyderm/notebooks-user:0.6.4']);
    for (const container of taskDefinition?.containerDefinitions ?? []) {
      expect(container.environment?.map((e) => e.name)).toEqual(['PROVISIONER_VALUE_PACHD_LOGLEVEL', 'PROVISIONER_VALUE_WORKSPACE_ID']);
    }
  });

  it('makes no second service when a create is retried', async () => {
    await ecs.create(launch);
    const { serviceArns = [] } = await client.send(new ListServicesCommand({ cluster: 'workspaces' }));
    expect(serviceArns).toHaveLength(1);
  });

  it('reports a created service as on its way or running (never gone), and re-tags its expiry', async () => {
    // moto starts no task of a Fargate service that AWS would (no address to report): pending is what it can show.
    expect(['pending', 'running']).toContain((await ecs.status(launch.id)).state);
    await ecs.retag(launch.id, '2026-12-01T00:00:00.000Z');
    expect((await tagsOf((await service())?.serviceArn ?? ''))['provisioner:expires-at']).toBe('2026-12-01T00:00:00.000Z');
  });

  it('deletes the service and deregisters the task definitions; a second delete is done too', async () => {
    await ecs.delete(launch.id);
    expect(await activeDefinitions()).toEqual([]);
    expect(['DRAINING', 'INACTIVE', undefined]).toContain((await service())?.status);
    expect(['pending', 'gone']).toContain((await ecs.status(launch.id)).state);
    await expect(ecs.delete(launch.id)).resolves.toBeUndefined();
  });

  it('reports a workspace that never existed as gone', async () => {
    expect(await ecs.status('ws-00000000ffff')).toEqual({ state: 'gone' });
  });
});
