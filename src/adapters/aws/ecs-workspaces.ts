import type * as EcsModule from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { WorkspacesCatalog } from '../../domain/catalog.js';
import { ProvisionerError } from '../../domain/errors.js';
import type { WorkspaceBackend, WorkspaceLaunch, WorkspaceStatus } from '../../ports.js';
import { guarded } from './failures.js';

type EcsSdk = typeof EcsModule;
type EcsBackend = Extract<WorkspacesCatalog['backend'], { kind: 'ecs' }>;

/** Tags on every workspace's service and task definition: which stack's (its name), whose, and until when. */
export const workspaceTags = { managed: 'provisioner:managed', workspace: 'provisioner:workspace', owner: 'provisioner:owner', expiresAt: 'provisioner:expires-at' } as const;

export interface EcsWorkspacesOptions {
  /** The shared workspace cluster (the seed's one cluster, sharded by namespace; here one service per workspace). */
  cluster: string;
  backend: EcsBackend;
  /** The images of the template's components (those without one are not containers: the helm chart). */
  components: WorkspacesCatalog['template']['components'];
  /** This stack's value of the `managed` tag, which IAM requires to create, re-tag and delete a service. */
  managedBy: string;
}

export const serviceName = (id: string) => `workspace-${id}`;
export const taskFamily = (id: string) => `provisioner-workspace-${id}`;

/**
 * Catalog workspace backend `{"kind": "ecs", ...}`: one Fargate service per workspace in the shared
 * workspace cluster. Its task runs a container per component that has an image, tagged with the
 * requested version; the environment is the merged values. Ready when a task of the service runs;
 * its private address fills the endpoint templates. The client module loads on first use; every
 * call goes through `guarded` (a throttled or failing ECS is 503 `dependency_unavailable`).
 */
export class EcsWorkspaces implements WorkspaceBackend {
  private loaded?: Promise<{ sdk: EcsSdk; client: ECSClient }>;

  constructor(
    private readonly options: EcsWorkspacesOptions,
    private readonly makeClient: (sdk: EcsSdk) => ECSClient = (sdk) => new sdk.ECSClient({}),
  ) {}

  private ecs() {
    this.loaded ??= import('@aws-sdk/client-ecs').then((sdk) => ({ sdk, client: this.makeClient(sdk) }));
    return this.loaded;
  }

  private call<T>(run: () => Promise<T>): Promise<T> {
    return guarded('ECS', run);
  }

  async create(launch: WorkspaceLaunch): Promise<void> {
    const { sdk, client } = await this.ecs();
    const { backend, cluster } = this.options;
    const tags = [
      { key: workspaceTags.managed, value: this.options.managedBy },
      { key: workspaceTags.workspace, value: launch.id },
      { key: workspaceTags.owner, value: launch.owner },
      { key: workspaceTags.expiresAt, value: launch.expiresAt },
    ];
    const environment = Object.entries(launch.environment)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value }));
    const containers = Object.entries(this.options.components).flatMap(([name, component]) => {
      const version = launch.versions[name];
      return component.image && version ? [{ name, image: `${component.image}:${version}`, essential: true, environment }] : [];
    });
    const [first, ...rest] = containers;
    if (!first) throw new ProvisionerError('backend_unavailable', 'The workspace template has no component with an image to run.');
    const definition = await this.call(() => client.send(
      new sdk.RegisterTaskDefinitionCommand({
        family: taskFamily(launch.id),
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: backend.cpu,
        memory: backend.memory,
        ...(backend.execution_role_arn && { executionRoleArn: backend.execution_role_arn }),
        containerDefinitions: [{ ...first, portMappings: [{ containerPort: backend.port, protocol: 'tcp' }] }, ...rest],
        tags,
      }),
    ));
    try {
      await this.call(() => client.send(
        new sdk.CreateServiceCommand({
          cluster,
          serviceName: serviceName(launch.id),
          taskDefinition: definition.taskDefinition?.taskDefinitionArn,
          desiredCount: 1,
          launchType: 'FARGATE',
          networkConfiguration: {
            awsvpcConfiguration: { subnets: backend.subnets, securityGroups: backend.security_groups, assignPublicIp: backend.assign_public_ip ? 'ENABLED' : 'DISABLED' },
          },
          tags,
          propagateTags: 'SERVICE',
          // A retried create of the same workspace makes no second service.
          clientToken: launch.id,
        }),
      ));
    } catch (error) {
      // The service exists already (an earlier try got through): done.
      if (!(error instanceof sdk.InvalidParameterException && /idempot|already exists/i.test(error.message))) throw error;
    }
  }

  async status(id: string): Promise<WorkspaceStatus> {
    const { sdk, client } = await this.ecs();
    const { cluster } = this.options;
    const { services = [] } = await this.call(() => client.send(new sdk.DescribeServicesCommand({ cluster, services: [serviceName(id)] })));
    const service = services[0];
    if (!service || service.status === 'INACTIVE') return { state: 'gone' };
    if (service.status === 'DRAINING') return { state: 'pending' };
    const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
    if (primary?.rolloutState === 'FAILED') return { state: 'failed', reason: primary.rolloutStateReason ?? 'the ECS deployment failed' };
    if ((service.runningCount ?? 0) < 1) return { state: 'pending' };
    const { taskArns = [] } = await this.call(() => client.send(new sdk.ListTasksCommand({ cluster, serviceName: serviceName(id), desiredStatus: 'RUNNING' })));
    if (taskArns.length === 0) return { state: 'pending' };
    const { tasks = [] } = await this.call(() => client.send(new sdk.DescribeTasksCommand({ cluster, tasks: taskArns })));
    for (const task of tasks) {
      if (task.lastStatus !== 'RUNNING') continue;
      const host = task.attachments?.flatMap((a) => a.details ?? []).find((d) => d.name === 'privateIPv4Address')?.value;
      if (host) return { state: 'running', host, port: this.options.backend.port };
    }
    return { state: 'pending' };
  }

  async retag(id: string, expiresAt: string): Promise<void> {
    const { sdk, client } = await this.ecs();
    const { services = [] } = await this.call(() => client.send(new sdk.DescribeServicesCommand({ cluster: this.options.cluster, services: [serviceName(id)] })));
    const arn = services[0]?.serviceArn;
    if (!arn) return;
    await this.call(() => client.send(new sdk.TagResourceCommand({ resourceArn: arn, tags: [{ key: workspaceTags.expiresAt, value: expiresAt }] })));
  }

  /**
   * Deregisters the workspace's task definitions (running tasks keep theirs), then deletes the
   * service (its tasks stop). In that order, so a failure between leaves the service: the workspace
   * stays `deleting` and the next try does both again. Each step is safe to repeat.
   */
  async delete(id: string): Promise<void> {
    const { sdk, client } = await this.ecs();
    let nextToken: string | undefined;
    do {
      const page = await this.call(() => client.send(new sdk.ListTaskDefinitionsCommand({ familyPrefix: taskFamily(id), status: 'ACTIVE', nextToken })));
      for (const arn of page.taskDefinitionArns ?? []) await this.call(() => client.send(new sdk.DeregisterTaskDefinitionCommand({ taskDefinition: arn })));
      nextToken = page.nextToken;
    } while (nextToken);
    try {
      await this.call(() => client.send(new sdk.DeleteServiceCommand({ cluster: this.options.cluster, service: serviceName(id), force: true })));
    } catch (error) {
      if (!(error instanceof sdk.ServiceNotFoundException || error instanceof sdk.ServiceNotActiveException)) throw error;
    }
  }
}
