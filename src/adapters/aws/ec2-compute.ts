import type * as Ec2Module from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { type Clock, systemClock } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import { instanceOwnerKey } from '../../store/keys.js';
import { guarded } from './failures.js';
import type { ClusterCompute, Deployment, DeploymentStatus, MachineOwners, Store, SweptDeployment } from '../../ports.js';

/**
 * The tags every instance carries. `managed` holds the launching stack's name: IAM lets a stack
 * terminate only instances carrying its own, and its janitor sweeps only those.
 */
export const tags = { managed: 'provisioner:managed', cluster: 'provisioner:cluster', deployment: 'provisioner:deployment' } as const;

const live = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];
const serving = ['pending', 'running'];
const stopped = ['stopping', 'stopped'];

type Ec2Sdk = typeof Ec2Module;

/** EC2 throttling (RequestLimitExceeded), 5xx and timeouts answer 503 `dependency_unavailable`. */
const ec2Call = <T>(call: () => Promise<T>) => guarded('EC2', call);

export interface Ec2ComputeOptions {
  /** The table holding the instance → cluster map (`instanceOwnerKey`). */
  table: Pick<Store, 'get' | 'put' | 'remove'>;
  makeClient?: (sdk: Ec2Sdk) => EC2Client;
  clock?: Clock;
  /** How long a warm container reuses a deployment's status: repeated reads of a deploying cluster ask EC2 once. */
  statusCacheMs?: number;
}

/**
 * Catalog backend `{"kind": "ec2", "launch_template": "lt-..."}`: one instance per node. The EC2
 * client module takes about a quarter second to load, and most requests (a read of a running
 * cluster) never need it: it is imported on first use, not at cold start.
 */
export class Ec2ClusterCompute implements ClusterCompute, MachineOwners {
  private loaded?: Promise<{ sdk: Ec2Sdk; client: EC2Client }>;
  private readonly table: Ec2ComputeOptions['table'];
  private readonly makeClient: (sdk: Ec2Sdk) => EC2Client;
  private readonly clock: Clock;
  private readonly statusCacheMs: number;
  /** By deployment: when it was read, for how many nodes, and what EC2 answered. */
  private readonly statuses = new Map<string, { at: number; nodes?: number; status: DeploymentStatus }>();

  constructor(
    /** This stack's value of the `managed` tag: instances with another value belong to another stack. */
    private readonly managedBy: string,
    options: Ec2ComputeOptions,
  ) {
    this.table = options.table;
    this.makeClient = options.makeClient ?? ((sdk) => new sdk.EC2Client({}));
    this.clock = options.clock ?? systemClock;
    this.statusCacheMs = options.statusCacheMs ?? 0;
  }

  private ec2() {
    this.loaded ??= import('@aws-sdk/client-ec2').then((sdk) => ({ sdk, client: this.makeClient(sdk) }));
    return this.loaded;
  }

  /**
   * Launches the nodes at `version`, passed where the catalog's `version` says (launch template
   * version, the AMI of an SSM parameter, the user data). A repair first terminates the stopped
   * instances, then launches only the nodes missing, under a token of its own.
   */
  async deploy({ cluster, deploymentId, nodes, version, repair }: Deployment & { nodes: number; version: string; repair?: string }): Promise<void> {
    const backend = this.backend(cluster);
    const { sdk, client } = await this.ec2();
    let count = nodes;
    if (repair) {
      const instances = await this.instances({ cluster, deploymentId });
      const stoppedIds = instances.filter((i) => stopped.includes(i.State?.Name ?? '')).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
      if (stoppedIds.length > 0) await ec2Call(() => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: stoppedIds })));
      count = nodes - instances.filter((i) => serving.includes(i.State?.Name ?? '')).length;
      if (count <= 0) return;
    }
    const tagList = [
      { Key: tags.managed, Value: this.managedBy },
      { Key: tags.cluster, Value: cluster.name },
      { Key: tags.deployment, Value: deploymentId },
      { Key: 'provisioner:version', Value: version },
    ];
    const versioned = backend.version;
    this.statuses.delete(deploymentId);
    const { Instances = [] } = await ec2Call(() =>
      client.send(
        new sdk.RunInstancesCommand({
          LaunchTemplate: {
            LaunchTemplateId: backend.launch_template,
            ...(versioned?.kind === 'launch_template_version' && { Version: version === 'latest' ? '$Latest' : version === 'default' ? '$Default' : version }),
          },
          ...(versioned?.kind === 'ami_parameter' && { ImageId: `resolve:ssm:${versioned.name.replace('{version}', version)}` }),
          ...(versioned?.kind === 'user_data' && { UserData: Buffer.from(versioned.template.replaceAll('{version}', version)).toString('base64') }),
          ...(backend.instance_type && { InstanceType: backend.instance_type as never }),
          MinCount: count,
          MaxCount: count,
          // The deployment id (and a repair's id) makes a retried call start nothing new.
          ClientToken: repair ? `${deploymentId}-${repair}` : deploymentId,
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tagList },
            { ResourceType: 'volume', Tags: tagList },
          ],
        }),
      ),
    );
    // The map drift events read instead of EC2. A failed write fails the deploy (which removes what it
    // launched); a retry under the same token gets the same instances and writes them again.
    const owner = { cluster: cluster.name, deployment_id: deploymentId };
    await Promise.all(Instances.flatMap((i) => (i.InstanceId ? [this.table.put({ ...instanceOwnerKey(i.InstanceId), ...owner })] : [])));
  }

  /**
   * Gone only when every instance is terminated. Instances shutting down (replaced by a repair,
   * reclaimed) are leaving: they count only while nothing else serves. A terminated instance leaves
   * no trace, so a repair's `nodes` is what tells that one is still missing.
   */
  async status(deployment: Deployment & { nodes?: number }): Promise<DeploymentStatus> {
    const now = this.clock.now().getTime();
    const cached = this.statuses.get(deployment.deploymentId);
    if (cached && now - cached.at < this.statusCacheMs && cached.nodes === deployment.nodes) return cached.status;
    const status = await this.describeStatus(deployment);
    if (this.statusCacheMs > 0) {
      for (const [id, entry] of this.statuses) if (now - entry.at >= this.statusCacheMs) this.statuses.delete(id);
      this.statuses.set(deployment.deploymentId, { at: now, nodes: deployment.nodes, status });
    }
    return status;
  }

  private async describeStatus(deployment: Deployment & { nodes?: number }): Promise<DeploymentStatus> {
    const instances = await this.instances(deployment);
    const state = (i: (typeof instances)[number]) => i.State?.Name ?? '';
    if (!instances.some((i) => live.includes(state(i)))) return { state: 'gone', endpoints: [] };
    const up = instances.filter((i) => serving.includes(state(i)));
    const endpoints = up.flatMap((i) => (i.PrivateIpAddress ? [i.PrivateIpAddress] : []));
    const halted = instances.find((i) => stopped.includes(state(i)));
    if (halted) return { state: 'failed', endpoints, reason: `instance ${halted.InstanceId} is ${state(halted)}` };
    if (up.length === 0) return { state: 'failed', endpoints, reason: 'every instance is shutting down' };
    if (deployment.nodes !== undefined && up.length < deployment.nodes) return { state: 'degraded', endpoints, reason: `${up.length} of ${deployment.nodes} nodes serving` };
    return { state: up.every((i) => state(i) === 'running') ? 'running' : 'pending', endpoints };
  }

  /**
   * The cluster and deployment this stack launched an instance for, from the map in its table (one
   * GetItem, no EC2 read); undefined for any other instance of the region.
   */
  async ownerOf(instanceId: string): Promise<{ cluster: string; deploymentId: string } | undefined> {
    const item = await this.table.get(instanceOwnerKey(instanceId));
    return typeof item?.cluster === 'string' && typeof item.deployment_id === 'string' ? { cluster: item.cluster, deploymentId: item.deployment_id } : undefined;
  }

  async forget(instanceId: string): Promise<void> {
    await this.table.remove(instanceOwnerKey(instanceId));
  }

  async lost(deployment: Deployment & { nodes: number }): Promise<string | undefined> {
    const instances = await this.instances(deployment);
    const halted = instances.find((i) => stopped.includes(i.State?.Name ?? ''));
    if (halted) return `instance ${halted.InstanceId} is ${halted.State?.Name}`;
    const up = instances.filter((i) => serving.includes(i.State?.Name ?? '')).length;
    return up < deployment.nodes ? `${up} of ${deployment.nodes} nodes serving` : undefined;
  }

  async destroy(deployment: Deployment): Promise<void> {
    this.statuses.delete(deployment.deploymentId);
    const { sdk, client } = await this.ec2();
    const ids = (await this.instances(deployment)).filter((i) => i.State?.Name !== 'terminated').flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
    if (ids.length > 0) await ec2Call(() => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids })));
  }

  async sweep(active: ReadonlySet<string>, createdBefore: Date): Promise<SweptDeployment[]> {
    this.statuses.clear();
    const { sdk, client } = await this.ec2();
    const stray = (await this.describe([{ Name: `tag:${tags.managed}`, Values: [this.managedBy] }, { Name: 'instance-state-name', Values: live }])).filter((instance) => {
      const deployment = instance.Tags?.find((t) => t.Key === tags.deployment)?.Value;
      return deployment !== undefined && !active.has(deployment) && instance.LaunchTime !== undefined && instance.LaunchTime < createdBefore;
    });
    const ids = stray.flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
    if (ids.length > 0) await ec2Call(() => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids })));
    const swept = new Map<string, SweptDeployment>();
    for (const instance of stray) {
      const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
      const deploymentId = tag(tags.deployment) ?? '';
      swept.set(deploymentId, { deploymentId, ...(tag(tags.cluster) && { cluster: tag(tags.cluster) }) });
    }
    return [...swept.values()];
  }

  private instances({ cluster, deploymentId }: Deployment) {
    return this.describe([
      { Name: `tag:${tags.cluster}`, Values: [cluster.name] },
      { Name: `tag:${tags.deployment}`, Values: [deploymentId] },
    ]);
  }

  private async describe(Filters: { Name: string; Values: string[] }[]) {
    const { sdk, client } = await this.ec2();
    const found = [];
    let NextToken: string | undefined;
    do {
      const page = await ec2Call(() => client.send(new sdk.DescribeInstancesCommand({ Filters, NextToken })));
      found.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  }

  private backend(cluster: Deployment['cluster']) {
    if (cluster.backend.kind !== 'ec2') {
      throw new ProvisionerError('backend_unavailable', `${cluster.name} uses the ${cluster.backend.kind} backend, which does not run in AWS.`);
    }
    return cluster.backend;
  }
}
