import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { EcsWorkbenchCompute } from '../../src/adapters/aws/ecs-workbenches.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import type { WorkbenchTask } from '../../src/ports.js';
import { type Moto, startMoto } from '../support/moto.js';

/**
 * Issue 21, point 3: the real ECS workbench adapter against moto's ECS and EC2 wire protocols —
 * RunTask and the ARN it returns, DescribeTasks of that ARN, StopTask, and the dedicated instance's
 * launch, registration wait and StartTask placement.
 */
let moto: Moto;
let ecs: ECSClient;
let ec2: EC2Client;
let compute: EcsWorkbenchCompute;
let clusterArn: string;

const task = (runId: string, extra: Partial<WorkbenchTask> = {}): WorkbenchTask => ({
  workbenchId: 'wb-0123456789ab',
  runId,
  name: 'AutoCyber',
  owner: 'github:olga',
  ownerLogin: 'olga',
  cpu: 1024,
  memory: 2048,
  gpu: 0,
  capacityProvider: 'workbench-ec2',
  dedicatedInstance: false,
  ...extra,
});

/** Registers an EC2 instance with the cluster, as the ECS agent on it does once it has booted. */
async function register(instanceId: string): Promise<string> {
  const { containerInstance } = await ecs.send(new RegisterContainerInstanceCommand({ cluster: 'workbenches', instanceIdentityDocument: JSON.stringify({ instanceId }) }));
  return containerInstance?.containerInstanceArn ?? '';
}

beforeAll(async () => {
  moto = await startMoto();
  ecs = new ECSClient(moto.clientConfig);
  ec2 = new EC2Client(moto.clientConfig);
  clusterArn = (await ecs.send(new CreateClusterCommand({ clusterName: 'workbenches' }))).cluster?.clusterArn ?? '';
  // moto places capacity-provider tasks only on registered instances and fails awsvpc outside FARGATE (a moto bug), so bridge mode and no subnets here.
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'workbench', networkMode: 'bridge', requiresCompatibilities: ['EC2'], cpu: '1024', memory: '2048', containerDefinitions: [{ name: 'ide', image: 'ide', cpu: 1024, memory: 2048 }] }));
  const [image] = (await ec2.send(new DescribeImagesCommand({}))).Images ?? [];
  const template = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'workbench-dedicated', LaunchTemplateData: { ImageId: image?.ImageId, InstanceType: 't3.large' } }));
  const catalog = parseCatalog(
    JSON.stringify({
      organization: 'acme',
      clusters: [],
      workbenches: {
        providers: [{ name: 'workbench-ec2', max_cpu: 4096, max_memory: 16384, cost: 1 }],
        ecs: {
          cluster: clusterArn,
          task_definition: 'workbench',
          container: 'ide',
          task_roles: ['arn:aws:iam::123456789012:role/workbench-task'],
          dedicated_launch_template: template.LaunchTemplate?.LaunchTemplateId,
        },
      },
    }),
    'moto catalog',
  );
  compute = new EcsWorkbenchCompute(catalog.workbenches, 'Provisioner-moto', (sdk) => new sdk.ECSClient(moto.clientConfig), (sdk) => new sdk.EC2Client(moto.clientConfig));
});
afterAll(() => moto.stop());

describe('ECS workbenches against moto', () => {
  // moto ignores ListContainerInstances' filter (AWS applies it): this test runs before any other instance registers.
  it('launches a dedicated instance under this run\'s token, waits for it to register, then places the task on it with StartTask', async () => {
    const run = task('r2', { dedicatedInstance: true });
    const first = await compute.start(run);
    expect(first.pendingInstance).toMatch(/^i-/);
    const instances = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [first.pendingInstance ?? ''] }))).Reservations?.[0]?.Instances ?? [];
    expect(instances[0]?.Tags).toEqual(expect.arrayContaining([{ Key: 'provisioner:workbench', Value: 'wb-0123456789ab' }, { Key: 'provisioner:managed', Value: 'Provisioner-moto' }]));
    // Not registered yet: asked again, the start still waits, and launches nothing new.
    expect(await compute.start(run)).toEqual({ pendingInstance: first.pendingInstance });
    const containerInstance = await register(first.pendingInstance ?? '');
    const placed = await compute.start(run);
    expect(placed.taskArn).toMatch(/:task\/workbenches\//);
    const described = (await ecs.send(new DescribeTasksCommand({ cluster: clusterArn, tasks: [placed.taskArn ?? ''] }))).tasks?.[0];
    expect(described).toMatchObject({ containerInstanceArn: containerInstance, startedBy: 'r2' });
    // Asked again (StartTask has no client token), the run's placed task is the answer.
    expect(await compute.start(run)).toEqual(placed);
    await compute.stop({ ...run, taskArn: placed.taskArn });
    const instance = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [first.pendingInstance ?? ''] }))).Reservations?.[0]?.Instances?.[0];
    expect(['stopping', 'stopped']).toContain(instance?.State?.Name);
  });

  it('runs a task, answers its ARN, describes exactly it, and stops it', async () => {
    // The capacity provider's instance (moto needs one registered to place a capacity-provider task).
    const [image] = (await ec2.send(new DescribeImagesCommand({}))).Images ?? [];
    const { Instances: [pool] = [] } = await ec2.send(new RunInstancesCommand({ ImageId: image?.ImageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.xlarge' }));
    await register(pool?.InstanceId ?? '');
    const run = task('r1');
    const { taskArn } = await compute.start(run);
    expect(taskArn).toMatch(/^arn:aws:ecs:us-east-1:\d+:task\/workbenches\//);
    const described = (await ecs.send(new DescribeTasksCommand({ cluster: clusterArn, tasks: [taskArn ?? ''], include: ['TAGS'] }))).tasks?.[0];
    expect(described).toMatchObject({ startedBy: 'r1', taskDefinitionArn: expect.stringContaining('task-definition/workbench:') });
    expect(described?.overrides?.containerOverrides?.[0]?.environment).toEqual(expect.arrayContaining([{ name: 'WORKBENCH_ID', value: 'wb-0123456789ab' }, { name: 'WORKBENCH_NAME', value: 'AutoCyber' }]));
    expect(described?.tags).toEqual(expect.arrayContaining([{ key: 'provisioner:managed', value: 'Provisioner-moto' }, { key: 'provisioner:workbench', value: 'wb-0123456789ab' }]));
    // moto reports a new task as RUNNING, then soon DEACTIVATING (AWS: PROVISIONING → PENDING → RUNNING).
    expect(['running', 'stopping']).toContain((await compute.status({ ...run, taskArn })).state);
    // Without the recorded ARN, startedBy alone finds it (ECS allows no other filter with startedBy).
    expect((await ecs.send(new ListTasksCommand({ cluster: clusterArn, startedBy: 'r1' }))).taskArns).toContain(taskArn);
    await compute.stop({ ...run, taskArn });
    const stopped = await compute.status({ ...run, taskArn });
    expect(stopped).toMatchObject({ state: 'stopped', reason: 'Stopped by Provisioner' });
  });

  // The janitor's sweep is proven in test/adapters/aws-workbenches.test.ts: moto's tasks carry no createdAt (AWS's do), which the sweep needs.
});
