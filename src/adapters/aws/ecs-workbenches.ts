import type * as Ec2Module from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type * as EcsModule from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Catalog } from '../../domain/catalog.js';
import { ProvisionerError } from '../../domain/errors.js';
import { endpointFor, type TaskState } from '../../domain/workbenches.js';
import type { WorkbenchCompute, WorkbenchTask, WorkbenchTaskStatus } from '../../ports.js';

/** The tags every workbench task and dedicated instance carries; IAM scopes instance actions to this stack's value of `managed`. */
export const workbenchTags = { managed: 'provisioner:managed', workbench: 'provisioner:workbench', owner: 'provisioner:owner' } as const;

/** ECS's task lifecycle (`lastStatus`), mapped onto the states a workbench reports. */
const ecsStates: Record<string, TaskState> = {
  PROVISIONING: 'provisioning',
  PENDING: 'pending',
  ACTIVATING: 'pending',
  RUNNING: 'running',
  DEACTIVATING: 'stopping',
  STOPPING: 'stopping',
  DEPROVISIONING: 'stopping',
  STOPPED: 'stopped',
};

/** A task's `lastStatus` as a workbench task state; an unknown one (ECS may add some) counts as on its way. */
export function taskStateOf(lastStatus: string | undefined): TaskState {
  return ecsStates[lastStatus ?? ''] ?? 'pending';
}

type EcsSdk = typeof EcsModule;
type Ec2Sdk = typeof Ec2Module;
type WorkbenchesConfig = Catalog['workbenches'];

/**
 * Workbenches as ECS tasks of the catalog's task definition, one per run, found again by
 * `startedBy` = the run id; dedicated instances as EC2 instances tagged with the workbench. Both
 * SDK modules are imported on first use: a read of a stopped workbench needs neither.
 */
export class EcsWorkbenchCompute implements WorkbenchCompute {
  private ecsLoaded?: Promise<{ sdk: EcsSdk; client: ECSClient }>;
  private ec2Loaded?: Promise<{ sdk: Ec2Sdk; client: EC2Client }>;

  constructor(
    private readonly config: WorkbenchesConfig,
    /** This stack's value of the `managed` tag (its name). */
    private readonly managedBy: string,
    private readonly makeEcs: (sdk: EcsSdk) => ECSClient = (sdk) => new sdk.ECSClient({}),
    private readonly makeEc2: (sdk: Ec2Sdk) => EC2Client = (sdk) => new sdk.EC2Client({}),
  ) {}

  private ecsClient() {
    this.ecsLoaded ??= import('@aws-sdk/client-ecs').then((sdk) => ({ sdk, client: this.makeEcs(sdk) }));
    return this.ecsLoaded;
  }

  private ec2Client() {
    this.ec2Loaded ??= import('@aws-sdk/client-ec2').then((sdk) => ({ sdk, client: this.makeEc2(sdk) }));
    return this.ec2Loaded;
  }

  private get ecs() {
    if (!this.config.ecs) throw new ProvisionerError('backend_unavailable', 'The catalog has no workbenches.ecs section: workbenches cannot run in AWS.');
    return this.config.ecs;
  }

  async start(task: WorkbenchTask): Promise<void> {
    const ecs = this.ecs;
    const instanceId = task.dedicatedInstance ? await this.startInstance(task) : undefined;
    // A retried start of the same run finds its task and starts nothing new.
    if ((await this.taskArns(task.runId, 'RUNNING')).length > 0) return;
    await this.runTask(task, task.runId, { name: ecs.container, cpu: task.cpu, memory: task.memory, ...(task.gpu > 0 && { resourceRequirements: [{ type: 'GPU', value: String(task.gpu) }] }) }, instanceId);
  }

  async status(task: WorkbenchTask): Promise<WorkbenchTaskStatus> {
    const arns = [...(await this.taskArns(task.runId, 'RUNNING')), ...(await this.taskArns(task.runId, 'STOPPED'))];
    if (arns.length === 0) return { state: 'gone' };
    const { sdk, client } = await this.ecsClient();
    const { tasks = [] } = await client.send(new sdk.DescribeTasksCommand({ cluster: this.ecs.cluster, tasks: arns }));
    const latest = tasks.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
    if (!latest) return { state: 'gone' };
    const state = taskStateOf(latest.lastStatus);
    return {
      state,
      ...(state === 'stopped' && { reason: latest.stoppedReason ?? latest.stopCode ?? 'the task stopped' }),
      endpoint: endpointFor(this.config.endpoint, { id: task.workbenchId, owner: task.owner, owner_login: task.ownerLogin, name: task.name }),
    };
  }

  async stop(task: WorkbenchTask): Promise<void> {
    await this.stopTasks(task.runId, 'Stopped by Provisioner');
    if (task.dedicatedInstance) {
      const instance = await this.instance(task.workbenchId);
      if (instance?.InstanceId && ['pending', 'running'].includes(instance.State?.Name ?? '')) {
        const { sdk, client } = await this.ec2Client();
        await client.send(new sdk.StopInstancesCommand({ InstanceIds: [instance.InstanceId] }));
      }
    }
  }

  async remove(task: WorkbenchTask): Promise<void> {
    const ecs = this.ecs;
    await this.stopTasks(task.runId, 'Deleted by Provisioner');
    // The data lives on the shared file system: a one-off task of the same definition removes its directory.
    const cleanup = `cleanup-${task.workbenchId}`;
    if ((await this.taskArns(cleanup, 'RUNNING')).length === 0) {
      await this.runTask({ ...task, dedicatedInstance: false }, cleanup, { name: ecs.container, command: ['sh', '-c', 'rm -rf -- "$WORKBENCH_DATA"'] });
    }
    if (task.dedicatedInstance) {
      const instance = await this.instance(task.workbenchId);
      if (instance?.InstanceId) {
        const { sdk, client } = await this.ec2Client();
        await client.send(new sdk.TerminateInstancesCommand({ InstanceIds: [instance.InstanceId] }));
      }
    }
  }

  private async runTask(task: WorkbenchTask, startedBy: string, container: EcsModule.ContainerOverride, instanceId?: string): Promise<void> {
    const ecs = this.ecs;
    const { sdk, client } = await this.ecsClient();
    const result = await client.send(
      new sdk.RunTaskCommand({
        cluster: ecs.cluster,
        taskDefinition: ecs.task_definition,
        count: 1,
        startedBy,
        clientToken: startedBy,
        capacityProviderStrategy: [{ capacityProvider: task.capacityProvider, weight: 1 }],
        ...(ecs.subnets.length > 0 && {
          networkConfiguration: { awsvpcConfiguration: { subnets: ecs.subnets, securityGroups: ecs.security_groups, assignPublicIp: 'DISABLED' } },
        }),
        ...(instanceId && { placementConstraints: [{ type: 'memberOf', expression: `ec2InstanceId == ${instanceId}` }] }),
        overrides: {
          ...(container.cpu !== undefined && { cpu: String(container.cpu) }),
          ...(container.memory !== undefined && { memory: String(container.memory) }),
          containerOverrides: [
            {
              ...container,
              environment: [
                { name: 'WORKBENCH_ID', value: task.workbenchId },
                { name: 'WORKBENCH_NAME', value: task.name },
                { name: 'WORKBENCH_OWNER', value: task.ownerLogin ?? task.owner },
                { name: 'WORKBENCH_DATA', value: `${ecs.data_root}/${task.workbenchId}` },
              ],
            },
          ],
        },
        tags: this.tags(task).map(({ Key, Value }) => ({ key: Key, value: Value })),
        enableECSManagedTags: true,
      }),
    );
    const failure = result.failures?.[0];
    if (failure || !result.tasks?.length) throw new Error(`RunTask failed: ${failure?.reason ?? 'no task started'}${failure?.detail ? ` (${failure.detail})` : ''}`);
  }

  private tags(task: WorkbenchTask) {
    return [
      { Key: workbenchTags.managed, Value: this.managedBy },
      { Key: workbenchTags.workbench, Value: task.workbenchId },
      { Key: workbenchTags.owner, Value: task.ownerLogin ?? task.owner },
    ];
  }

  private async taskArns(startedBy: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
    const { sdk, client } = await this.ecsClient();
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new sdk.ListTasksCommand({ cluster: this.ecs.cluster, startedBy, desiredStatus, nextToken }));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  private async stopTasks(startedBy: string, reason: string): Promise<void> {
    const { sdk, client } = await this.ecsClient();
    for (const task of await this.taskArns(startedBy, 'RUNNING')) {
      await client.send(new sdk.StopTaskCommand({ cluster: this.ecs.cluster, task, reason }));
    }
  }

  /** The workbench's dedicated instance (not terminated), if any. */
  private async instance(workbenchId: string) {
    const { sdk, client } = await this.ec2Client();
    const page = await client.send(
      new sdk.DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${workbenchTags.workbench}`, Values: [workbenchId] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      }),
    );
    return (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0];
  }

  /** Starts (or launches, the first time) the dedicated instance; returns its id. */
  private async startInstance(task: WorkbenchTask): Promise<string> {
    const { sdk, client } = await this.ec2Client();
    const found = await this.instance(task.workbenchId);
    if (found?.InstanceId) {
      if (['stopping', 'stopped'].includes(found.State?.Name ?? '')) await client.send(new sdk.StartInstancesCommand({ InstanceIds: [found.InstanceId] }));
      return found.InstanceId;
    }
    const template = this.ecs.dedicated_launch_template;
    if (!template) throw new ProvisionerError('invalid_request', 'dedicated_instance is not offered: the catalog names no dedicated_launch_template.', { field: 'dedicated_instance' });
    const tags = this.tags(task);
    const launched = await client.send(
      new sdk.RunInstancesCommand({
        LaunchTemplate: { LaunchTemplateId: template },
        MinCount: 1,
        MaxCount: 1,
        // One instance per workbench, however often the launch is retried.
        ClientToken: `workbench-${task.workbenchId}`,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      }),
    );
    const id = launched.Instances?.[0]?.InstanceId;
    if (!id) throw new Error('RunInstances returned no instance');
    return id;
  }
}
