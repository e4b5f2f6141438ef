import type * as Ec2Module from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type * as EcsModule from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Catalog } from '../../domain/catalog.js';
import { ProvisionerError } from '../../domain/errors.js';
import { endpointFor, type TaskState } from '../../domain/workbenches.js';
import type { WorkbenchCompute, WorkbenchStarted, WorkbenchTask, WorkbenchTaskStatus } from '../../ports.js';
import { guarded } from './failures.js';

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

/** Every ECS and EC2 call: a throttle, 5xx or network failure is 503 `dependency_unavailable` (the client retries). */
const ecsCall = <T>(call: () => Promise<T>) => guarded('Amazon ECS', call);
const ec2Call = <T>(call: () => Promise<T>) => guarded('Amazon EC2', call);

/** The task RunTask or StartTask started, or why none did. */
function startedTask(result: EcsModule.RunTaskCommandOutput | EcsModule.StartTaskCommandOutput, action: string): string {
  const failure = result.failures?.[0];
  const arn = result.tasks?.[0]?.taskArn;
  if (failure || !arn) throw new Error(`${action} failed: ${failure?.reason ?? 'no task started'}${failure?.detail ? ` (${failure.detail})` : ''}`);
  return arn;
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

  /**
   * Starts the run's task: RunTask on the chosen capacity provider (idempotent by the run id as its
   * client token), or, with a dedicated instance, once that instance has registered with the
   * cluster, StartTask on its container instance (a capacity-provider task would not land on an
   * instance outside the provider's group). Until it registers, the start answers the instance it
   * waits for; the use case asks again.
   */
  async start(task: WorkbenchTask): Promise<WorkbenchStarted> {
    if (task.taskArn) return { taskArn: task.taskArn };
    const overrides = this.overrides(task, { name: this.ecs.container, cpu: task.cpu, memory: task.memory, ...(task.gpu > 0 && { resourceRequirements: [{ type: 'GPU', value: String(task.gpu) }] }) });
    if (!task.dedicatedInstance) return { taskArn: await this.runTask(task, task.runId, overrides) };
    const instanceId = await this.startInstance(task);
    const containerInstance = await this.containerInstance(instanceId);
    if (!containerInstance) return { pendingInstance: instanceId };
    // StartTask has no client token: a task this run already placed (listed by its startedBy alone, as ECS requires) is the answer.
    const [placed] = await this.taskArns(task.runId);
    if (placed) return { taskArn: placed };
    const { sdk, client } = await this.ecsClient();
    const result = await ecsCall(() =>
      client.send(
        new sdk.StartTaskCommand({
          cluster: this.ecs.cluster,
          taskDefinition: this.ecs.task_definition,
          containerInstances: [containerInstance],
          startedBy: task.runId,
          ...this.network(),
          overrides,
          tags: this.ecsTags(task),
          enableECSManagedTags: true,
        }),
      ),
    );
    return { taskArn: startedTask(result, 'StartTask') };
  }

  /** The run's task, by the ARN recorded at its start (DescribeTasks is consistent; ListTasks is not), else by its startedBy. */
  async status(task: WorkbenchTask): Promise<WorkbenchTaskStatus> {
    const arns = task.taskArn ? [task.taskArn] : await this.taskArns(task.runId);
    if (arns.length === 0) return { state: 'gone' };
    const { sdk, client } = await this.ecsClient();
    const { tasks = [] } = await ecsCall(() => client.send(new sdk.DescribeTasksCommand({ cluster: this.ecs.cluster, tasks: arns })));
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
    await this.stopTasks(task, 'Stopped by Provisioner');
    if (task.dedicatedInstance) {
      const instance = await this.instance(task.workbenchId);
      if (instance?.InstanceId && ['pending', 'running'].includes(instance.State?.Name ?? '')) {
        const { sdk, client } = await this.ec2Client();
        await ec2Call(() => client.send(new sdk.StopInstancesCommand({ InstanceIds: [instance.InstanceId as string] })));
      }
    }
  }

  async remove(task: WorkbenchTask): Promise<void> {
    await this.stopTasks(task, 'Deleted by Provisioner');
    // The data lives on the shared file system: a one-off task of the same definition removes its directory (once: its client token).
    const cleanup = `cleanup-${task.workbenchId}`;
    await this.runTask({ ...task, dedicatedInstance: false }, cleanup, this.overrides(task, { name: this.ecs.container, command: ['sh', '-c', 'rm -rf -- "$WORKBENCH_DATA"'] }));
    if (task.dedicatedInstance) {
      const instance = await this.instance(task.workbenchId);
      if (instance?.InstanceId) {
        const { sdk, client } = await this.ec2Client();
        await ec2Call(() => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: [instance.InstanceId as string] })));
      }
    }
  }

  /**
   * The janitor's sweep: stops the live tasks of the workbench cluster that carry this stack's
   * `managed` tag and a workbench tag, whose run (`startedBy`) no live workbench owns, and that were
   * created before the sweep began (data-removal tasks are left to finish).
   */
  async sweep(live: ReadonlySet<string>, startedBefore: Date): Promise<string[]> {
    const { sdk, client } = await this.ecsClient();
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecsCall(() => client.send(new sdk.ListTasksCommand({ cluster: this.ecs.cluster, nextToken })));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const swept: string[] = [];
    // DescribeTasks takes at most 100 tasks a call.
    for (let i = 0; i < arns.length; i += 100) {
      const { tasks = [] } = await ecsCall(() => client.send(new sdk.DescribeTasksCommand({ cluster: this.ecs.cluster, tasks: arns.slice(i, i + 100), include: ['TAGS'] })));
      for (const found of tasks) {
        const tag = (key: string) => found.tags?.find((t) => t.key === key)?.value;
        const run = found.startedBy ?? '';
        const ours = tag(workbenchTags.managed) === this.managedBy && tag(workbenchTags.workbench) !== undefined;
        if (!ours || !found.taskArn || live.has(run) || run.startsWith('cleanup-') || (found.createdAt?.getTime() ?? Infinity) >= startedBefore.getTime()) continue;
        const taskArn = found.taskArn;
        await ecsCall(() => client.send(new sdk.StopTaskCommand({ cluster: this.ecs.cluster, task: taskArn, reason: 'Swept by Provisioner: no live workbench owns it' })));
        swept.push(run);
      }
    }
    return swept;
  }

  /** RunTask on the task's capacity provider, idempotent by `startedBy` as its client token; returns the task's ARN. */
  private async runTask(task: WorkbenchTask, startedBy: string, overrides: EcsModule.TaskOverride): Promise<string> {
    const { sdk, client } = await this.ecsClient();
    const result = await ecsCall(() =>
      client.send(
        new sdk.RunTaskCommand({
          cluster: this.ecs.cluster,
          taskDefinition: this.ecs.task_definition,
          count: 1,
          startedBy,
          clientToken: startedBy,
          capacityProviderStrategy: [{ capacityProvider: task.capacityProvider, weight: 1 }],
          ...this.network(),
          overrides,
          tags: this.ecsTags(task),
          enableECSManagedTags: true,
        }),
      ),
    );
    return startedTask(result, 'RunTask');
  }

  private network() {
    const ecs = this.ecs;
    return ecs.subnets.length > 0 ? { networkConfiguration: { awsvpcConfiguration: { subnets: ecs.subnets, securityGroups: ecs.security_groups, assignPublicIp: 'DISABLED' as const } } } : {};
  }

  /** The task's size and the container's environment: fixed names, the user's values as data. */
  private overrides(task: WorkbenchTask, container: EcsModule.ContainerOverride): EcsModule.TaskOverride {
    return {
      ...(container.cpu !== undefined && { cpu: String(container.cpu) }),
      ...(container.memory !== undefined && { memory: String(container.memory) }),
      containerOverrides: [
        {
          ...container,
          environment: [
            { name: 'WORKBENCH_ID', value: task.workbenchId },
            { name: 'WORKBENCH_NAME', value: task.name },
            { name: 'WORKBENCH_OWNER', value: task.ownerLogin ?? task.owner },
            { name: 'WORKBENCH_DATA', value: `${this.ecs.data_root}/${task.workbenchId}` },
          ],
        },
      ],
    };
  }

  private ecsTags(task: WorkbenchTask) {
    return this.tags(task).map(({ Key, Value }) => ({ key: Key, value: Value }));
  }

  private tags(task: WorkbenchTask) {
    return [
      { Key: workbenchTags.managed, Value: this.managedBy },
      { Key: workbenchTags.workbench, Value: task.workbenchId },
      { Key: workbenchTags.owner, Value: task.ownerLogin ?? task.owner },
    ];
  }

  /** The live tasks a run started: `startedBy` must be ListTasks' only filter (ECS refuses it with desiredStatus). */
  private async taskArns(startedBy: string): Promise<string[]> {
    const { sdk, client } = await this.ecsClient();
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecsCall(() => client.send(new sdk.ListTasksCommand({ cluster: this.ecs.cluster, startedBy, nextToken })));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  /** Stops the run's task: the recorded one and any its startedBy lists (a start whose ARN a crash kept from the record). */
  private async stopTasks(task: WorkbenchTask, reason: string): Promise<void> {
    const { sdk, client } = await this.ecsClient();
    const arns = new Set([...(task.taskArn ? [task.taskArn] : []), ...(await this.taskArns(task.runId))]);
    for (const arn of arns) {
      await ecsCall(() => client.send(new sdk.StopTaskCommand({ cluster: this.ecs.cluster, task: arn, reason })));
    }
  }

  /** The container instance an EC2 instance registered as, once it has (ACTIVE); undefined before. */
  private async containerInstance(instanceId: string): Promise<string | undefined> {
    const { sdk, client } = await this.ecsClient();
    const { containerInstanceArns = [] } = await ecsCall(() =>
      client.send(new sdk.ListContainerInstancesCommand({ cluster: this.ecs.cluster, filter: `ec2InstanceId == ${instanceId}`, status: 'ACTIVE' })),
    );
    return containerInstanceArns[0];
  }

  /** The workbench's dedicated instance (not terminated), if any. */
  private async instance(workbenchId: string) {
    const { sdk, client } = await this.ec2Client();
    const page = await ec2Call(() =>
      client.send(
        new sdk.DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${workbenchTags.workbench}`, Values: [workbenchId] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      ),
    );
    return (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0];
  }

  /** Starts (or launches, the first time) the dedicated instance; returns its id. */
  private async startInstance(task: WorkbenchTask): Promise<string> {
    const { sdk, client } = await this.ec2Client();
    const found = await this.instance(task.workbenchId);
    if (found?.InstanceId) {
      const instanceId = found.InstanceId;
      if (['stopping', 'stopped'].includes(found.State?.Name ?? '')) await ec2Call(() => client.send(new sdk.StartInstancesCommand({ InstanceIds: [instanceId] })));
      return instanceId;
    }
    const template = this.ecs.dedicated_launch_template;
    if (!template) throw new ProvisionerError('invalid_request', 'dedicated_instance is not offered: the catalog names no dedicated_launch_template.', { field: 'dedicated_instance' });
    const tags = this.tags(task);
    const launched = await ec2Call(() =>
      client.send(
        new sdk.RunInstancesCommand({
          LaunchTemplate: { LaunchTemplateId: template },
          MinCount: 1,
          MaxCount: 1,
          // One instance per launch (run), however often it is retried; a later run's launch is a new one
          // (EC2 answers a reused token with the instance it made then, even terminated).
          ClientToken: `${task.workbenchId}-${task.runId}`,
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        }),
      ),
    );
    const id = launched.Instances?.[0]?.InstanceId;
    if (!id) throw new Error('RunInstances returned no instance');
    return id;
  }
}
