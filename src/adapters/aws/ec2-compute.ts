import type * as Ec2Module from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ProvisionerError } from '../../domain/errors.js';
import { guarded } from './failures.js';
import type { ClusterCompute, Deployment, DeploymentStatus, SweptDeployment } from '../../ports.js';

/** The tags every instance carries; IAM allows terminating only instances tagged as ours. */
export const tags = { managed: 'provisioner:managed', cluster: 'provisioner:cluster', deployment: 'provisioner:deployment' } as const;

const live = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

type Ec2Sdk = typeof Ec2Module;

/** EC2 throttling (RequestLimitExceeded), 5xx and timeouts answer 503 `dependency_unavailable`. */
const ec2Call = <T>(call: () => Promise<T>) => guarded('EC2', call);

/**
 * Catalog backend `{"kind": "ec2", "launch_template": "lt-..."}`: one instance per node. The EC2
 * client module takes about a quarter second to load, and most requests (a read of a running
 * cluster) never need it: it is imported on first use, not at cold start.
 */
export class Ec2ClusterCompute implements ClusterCompute {
  private loaded?: Promise<{ sdk: Ec2Sdk; client: EC2Client }>;

  constructor(private readonly makeClient: (sdk: Ec2Sdk) => EC2Client = (sdk) => new sdk.EC2Client({})) {}

  private ec2() {
    this.loaded ??= import('@aws-sdk/client-ec2').then((sdk) => ({ sdk, client: this.makeClient(sdk) }));
    return this.loaded;
  }

  async deploy({ cluster, deploymentId, nodes, version }: Deployment & { nodes: number; version: string }): Promise<void> {
    const backend = this.backend(cluster);
    const { sdk, client } = await this.ec2();
    const tagList = [
      { Key: tags.managed, Value: 'true' },
      { Key: tags.cluster, Value: cluster.name },
      { Key: tags.deployment, Value: deploymentId },
      { Key: 'provisioner:version', Value: version },
    ];
    await ec2Call(() =>
      client.send(
        new sdk.RunInstancesCommand({
          LaunchTemplate: { LaunchTemplateId: backend.launch_template },
          ...(backend.instance_type && { InstanceType: backend.instance_type as never }),
          MinCount: nodes,
          MaxCount: nodes,
          // The deployment id makes a retried call start nothing new.
          ClientToken: deploymentId,
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tagList },
            { ResourceType: 'volume', Tags: tagList },
          ],
        }),
      ),
    );
  }

  async status(deployment: Deployment): Promise<DeploymentStatus> {
    const instances = await this.instances(deployment);
    const alive = instances.filter((i) => live.includes(i.State?.Name ?? ''));
    if (alive.length === 0) return { state: 'gone', endpoints: [] };
    const endpoints = alive.flatMap((i) => (i.PrivateIpAddress ? [i.PrivateIpAddress] : []));
    if (alive.some((i) => ['stopping', 'stopped', 'shutting-down'].includes(i.State?.Name ?? ''))) {
      return { state: 'failed', endpoints, reason: 'an instance stopped' };
    }
    return { state: alive.every((i) => i.State?.Name === 'running') ? 'running' : 'pending', endpoints };
  }

  async destroy(deployment: Deployment): Promise<void> {
    const { sdk, client } = await this.ec2();
    const ids = (await this.instances(deployment)).filter((i) => i.State?.Name !== 'terminated').flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
    if (ids.length > 0) await ec2Call(() => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids })));
  }

  async sweep(active: ReadonlySet<string>, createdBefore: Date): Promise<SweptDeployment[]> {
    const { sdk, client } = await this.ec2();
    const stray = (await this.describe([{ Name: `tag:${tags.managed}`, Values: ['true'] }, { Name: 'instance-state-name', Values: live }])).filter((instance) => {
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
