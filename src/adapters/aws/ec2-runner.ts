import type * as Ec2Module from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type * as SsmModule from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { RunPlan } from '../../domain/catalog/runs.js';
import { ProvisionerError } from '../../domain/errors.js';
import { generateRunScript, type RunnerHooks, shellQuote } from '../../domain/run-script.js';
import type { LaunchOutcome, RunLaunch, RunMachines } from '../../ports.js';
import { tags } from './ec2-compute.js';
import { guarded } from './failures.js';

/** The tag naming a run's instance; IAM lets the run functions launch and terminate only instances carrying it. */
export const runTag = 'provisioner:run';

/** The root volume's size when the catalog names none (GB). */
export const defaultVolumeGb = 100;
const defaultRetryDelaysMs = [1_000, 2_000, 4_000];

export interface Ec2RunnerOptions {
  /** The log bucket; the instance profile may write only under `runs/<any id>/<its aws:userid>/`. */
  bucket: string;
  /** The region of the bucket, for the instance's AWS CLI. */
  region: string;
  instanceProfileArn: string;
  /** The unique id (`AROA...`) of the profile's role: an instance's `aws:userid` is `<role id>:<instance id>`. */
  runnerRoleId: string;
  /** Where runs start (one of them, chosen by the run id); the default VPC when none. */
  subnetIds?: string[];
  /** The runners' security group; the subnet's VPC default when absent. */
  securityGroupId?: string;
  /** This stack's value of the `provisioner:managed` tag, which IAM requires on the instances it launches and terminates. */
  managedBy: string;
  /** The SSM parameter path under which a run's secrets wait for its instance: `<prefix><run id>`. */
  secretPrefix: string;
  /** The waits between terminate attempts that answer NotFound (bounded: a request path has 30 s in all). */
  retryDelaysMs?: number[];
}

type Ec2Sdk = typeof Ec2Module;
type SsmSdk = typeof SsmModule;

/** EC2's answers that mean "no spot capacity for you now": the run fails with that reason, it is not retried. */
const capacityErrors = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'SpotMaxPriceTooLow',
  'MaxSpotInstanceCountExceeded',
  'InsufficientFreeAddressesInSubnet',
  'Unsupported',
]);

/** EC2's limit on user data (before base64). */
export const userDataLimitBytes = 16 * 1024;

/** The largest user data a plan's script can make: the longest ref, bucket, region, cluster URL and names allowed. */
export function userDataBytes(plan: Pick<RunPlan, 'repository' | 'steps'>): number {
  const runId = '00000000-0000-4000-8000-000000000000';
  const script = generateRunScript(
    {
      runId,
      ref: `v${'9'.repeat(127)}`,
      repository: plan.repository,
      steps: plan.steps,
      env: { RUN_CLUSTER: 'x'.repeat(63), CLUSTER_URL: `https://${'x'.repeat(248)}` },
      secretEnv: { CLUSTER_TOKEN: '' },
    },
    ec2Hooks({ bucket: 'x'.repeat(63), region: 'ap-southeast-2', runId, timeLimitMs: 7 * 24 * 3_600_000, secretParameter: `/${'x'.repeat(128)}/runs/${runId}`, secretNames: ['CLUSTER_TOKEN'] }),
  );
  return Buffer.byteLength(script);
}

/** The tag on a run's secret parameter: IAM lets only the instance whose ARN it holds (`ec2:SourceInstanceARN`) read and delete it. */
export const secretInstanceTag = 'provisioner:instance';

/** How long the script keeps asking for its secrets: the launcher stores them just after RunInstances answers. */
const secretAttempts = 60;
const secretWaitSeconds = 5;

/** Past its time limit, the machine powers itself off after this long even when nothing outside stops it. */
const selfStopGraceMinutes = 5;

const ec2Call = <T>(call: () => Promise<T>) => guarded('EC2', call);
const ssmCall = <T>(call: () => Promise<T>) => guarded('SSM', call);
const errorName = (error: unknown) => (error as { name?: string }).name ?? '';

/** Each secret as one `NAME=<base64>` line: values stay one word whatever they hold. */
export function encodeSecrets(secretEnv: Record<string, string>): string {
  return Object.entries(secretEnv).map(([name, value]) => `${name}=${Buffer.from(value).toString('base64')}`).join('\n');
}

export interface Ec2HookOptions {
  bucket: string;
  region: string;
  runId: string;
  timeLimitMs: number;
  /** The SSM parameter holding the run's secrets, and their names (none: nothing to load). */
  secretParameter?: string;
  secretNames?: string[];
}

/**
 * What the script does on EC2: schedules its own power-off past the time limit, works in /var/tmp,
 * learns its `aws:userid` from STS (allowed to anyone), uploads with the AWS CLI under the instance
 * profile to the one prefix IAM lets it write, reads then deletes its secrets' parameter (only this
 * instance may), shuts down (= terminate). Secrets pass through pipes, never a file.
 */
export function ec2Hooks(options: Ec2HookOptions): RunnerHooks {
  const aws = `aws --region ${shellQuote(options.region)}`;
  const parameter = shellQuote(options.secretParameter ?? '');
  const exports = (options.secretNames ?? []).map((name) => `export ${name}="$(printf '%s\\n' "$secrets" | sed -n 's/^${name}=//p' | base64 -d)"`);
  return {
    dir: '/var/tmp/provisioner-run',
    begin: `shutdown -h +${Math.ceil(options.timeLimitMs / 60_000) + selfStopGraceMinutes}`,
    writer: `${aws} sts get-caller-identity --query UserId --output text`,
    upload: `${aws} s3 cp --only-show-errors "$1" ${shellQuote(`s3://${options.bucket}/runs/${options.runId}/`)}"$RUN_WRITER/$2"`,
    powerOff: 'shutdown -h now',
    loadSecrets: exports.length === 0
      ? ':'
      : [
          "local secrets='' attempt",
          `for attempt in {1..${secretAttempts}}; do secrets=$(${aws} ssm get-parameter --with-decryption --name ${parameter} --query Parameter.Value --output text) && break || sleep ${secretWaitSeconds}; done`,
          '[ -n "$secrets" ] || return 1',
          `${aws} ssm delete-parameter --name ${parameter} || true`,
          ...exports,
        ].join('; '),
  };
}

/**
 * One spot instance per run: the AMI from its public SSM parameter, an encrypted gp3 root volume,
 * the generated script as user data (no secret in it), terminated when it shuts down or is
 * interrupted, the run id as its client token (a retry starts nothing new) and its tag. The run's
 * secrets wait in an SSM SecureString that only that instance may read and delete. Every call is
 * `guarded`. The SDK modules are imported on first use.
 */
export class Ec2RunMachines implements RunMachines {
  private ec2Loaded?: Promise<{ sdk: Ec2Sdk; client: EC2Client }>;
  private ssmLoaded?: Promise<{ sdk: SsmSdk; client: SSMClient }>;

  constructor(
    private readonly options: Ec2RunnerOptions,
    private readonly makeEc2: (sdk: Ec2Sdk) => EC2Client = (sdk) => new sdk.EC2Client({}),
    private readonly makeSsm: (sdk: SsmSdk) => SSMClient = (sdk) => new sdk.SSMClient({}),
  ) {}

  private ec2() {
    this.ec2Loaded ??= import('@aws-sdk/client-ec2').then((sdk) => ({ sdk, client: this.makeEc2(sdk) }));
    return this.ec2Loaded;
  }

  private ssm() {
    this.ssmLoaded ??= import('@aws-sdk/client-ssm').then((sdk) => ({ sdk, client: this.makeSsm(sdk) }));
    return this.ssmLoaded;
  }

  private secretParameter(runId: string): string {
    return `${this.options.secretPrefix}${runId}`;
  }

  async launch(launch: RunLaunch): Promise<LaunchOutcome> {
    const { image, rootDevice } = await this.image(launch.amiParameter);
    const { secretEnv = {}, ...input } = launch.script;
    const secretNames = Object.keys(secretEnv);
    const hooks = ec2Hooks({
      bucket: this.options.bucket,
      region: this.options.region,
      runId: launch.runId,
      timeLimitMs: launch.timeLimitMs,
      ...(secretNames.length > 0 && { secretParameter: this.secretParameter(launch.runId), secretNames }),
    });
    const script = generateRunScript({ ...input, secretEnv }, hooks);
    const { sdk, client } = await this.ec2();
    const tagList = [
      { Key: tags.managed, Value: this.options.managedBy },
      { Key: runTag, Value: launch.runId },
    ];
    const subnets = this.options.subnetIds ?? [];
    const subnet = subnets.length > 0 ? subnets[parseInt(launch.runId.slice(0, 8), 16) % subnets.length] : undefined;
    let id: string;
    try {
      const started = await ec2Call(() =>
        client.send(
          new sdk.RunInstancesCommand({
            ImageId: image,
            InstanceType: launch.instanceType as never,
            MinCount: 1,
            MaxCount: 1,
            ClientToken: launch.runId,
            InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } },
            InstanceInitiatedShutdownBehavior: 'terminate',
            IamInstanceProfile: { Arn: this.options.instanceProfileArn },
            MetadataOptions: { HttpTokens: 'required' },
            BlockDeviceMappings: [
              { DeviceName: rootDevice, Ebs: { VolumeSize: launch.volumeGb ?? defaultVolumeGb, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
            ],
            UserData: Buffer.from(script).toString('base64'),
            ...(subnet && { SubnetId: subnet }),
            ...(this.options.securityGroupId && { SecurityGroupIds: [this.options.securityGroupId] }),
            TagSpecifications: [
              { ResourceType: 'instance', Tags: tagList },
              { ResourceType: 'volume', Tags: tagList },
              { ResourceType: 'spot-instances-request', Tags: tagList },
            ],
          }),
        ),
      );
      const startedId = started.Instances?.[0]?.InstanceId;
      if (!startedId) throw new Error('RunInstances returned no instance');
      id = startedId;
    } catch (error) {
      const name = errorName(error);
      if (capacityErrors.has(name)) return { refused: `EC2 refused a spot ${launch.instanceType}: ${name}: ${(error as Error).message}` };
      throw error;
    }
    if (secretNames.length > 0) await this.storeSecrets(launch.runId, id, secretEnv, tagList);
    return { machine: id, writer: `${this.options.runnerRoleId}:${id}` };
  }

  /** The run's secrets, for the instance `id` only (its ARN in the tag IAM compares with `ec2:SourceInstanceARN`). */
  private async storeSecrets(runId: string, id: string, secretEnv: Record<string, string>, tagList: { Key: string; Value: string }[]): Promise<void> {
    const [, partition, , , account] = this.options.instanceProfileArn.split(':');
    const instanceArn = `arn:${partition}:ec2:${this.options.region}:${account}:instance/${id}`;
    const { sdk, client } = await this.ssm();
    await ssmCall(() =>
      client.send(
        new sdk.PutParameterCommand({
          Name: this.secretParameter(runId),
          Type: 'SecureString',
          Value: encodeSecrets(secretEnv),
          Tags: [...tagList, { Key: secretInstanceTag, Value: instanceArn }],
        }),
      ),
    );
  }

  async stop(runId: string, machine?: string): Promise<void> {
    const { sdk, client } = await this.ec2();
    let ids = machine?.startsWith('i-') ? [machine] : [];
    if (ids.length === 0) {
      // Not recorded (the launch answer was lost): find it by its tag.
      const found = await ec2Call(() =>
        client.send(
          new sdk.DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${runTag}`, Values: [runId] },
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
          }),
        ),
      );
      ids = (found.Reservations ?? []).flatMap((r) => (r.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : [])));
    }
    await Promise.all([ids.length > 0 && this.terminate(ids), this.deleteSecrets(runId)]);
  }

  /** This stack's instances that carry a run tag (its clusters' do not), not yet terminated. */
  async alive(): Promise<{ runId: string; machine: string }[]> {
    const { sdk, client } = await this.ec2();
    const found: { runId: string; machine: string }[] = [];
    let token: string | undefined;
    do {
      const page = await ec2Call(() =>
        client.send(
          new sdk.DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${tags.managed}`, Values: [this.options.managedBy] },
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
            ...(token && { NextToken: token }),
          }),
        ),
      );
      for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const runId = instance.Tags?.find((t) => t.Key === runTag)?.Value;
        if (runId && instance.InstanceId) found.push({ runId, machine: instance.InstanceId });
      }
      token = page.NextToken;
    } while (token);
    return found;
  }

  /**
   * EC2 is eventually consistent: right after RunInstances, TerminateInstances may answer NotFound
   * for an instance that is starting. A few bounded retries; past them the janitor's sweep remains.
   */
  private async terminate(ids: string[]): Promise<void> {
    const { sdk, client } = await this.ec2();
    const delays = this.options.retryDelaysMs ?? defaultRetryDelaysMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await ec2Call(() => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids })));
        return;
      } catch (error) {
        if (errorName(error) !== 'InvalidInstanceID.NotFound') throw error;
        const delay = delays[attempt];
        if (delay === undefined) return;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** The door closes when the run ends, whether or not its instance used it. */
  private async deleteSecrets(runId: string): Promise<void> {
    const { sdk, client } = await this.ssm();
    try {
      await ssmCall(() => client.send(new sdk.DeleteParameterCommand({ Name: this.secretParameter(runId) })));
    } catch (error) {
      if (errorName(error) !== 'ParameterNotFound') throw error;
    }
  }

  /** The AMI its public parameter names, and the device name of its root volume. */
  private async image(parameter: string): Promise<{ image: string; rootDevice: string }> {
    const ssm = await this.ssm();
    const answer = await ssmCall(() => ssm.client.send(new ssm.sdk.GetParameterCommand({ Name: parameter })));
    const image = answer.Parameter?.Value;
    if (!image?.startsWith('ami-')) throw new ProvisionerError('backend_unavailable', `SSM parameter ${parameter} names no AMI.`, undefined, { 'retry-after': '60' });
    const ec2 = await this.ec2();
    const described = await ec2Call(() => ec2.client.send(new ec2.sdk.DescribeImagesCommand({ ImageIds: [image] })));
    const rootDevice = described.Images?.[0]?.RootDeviceName;
    if (!rootDevice) throw new ProvisionerError('backend_unavailable', `AMI ${image} (from ${parameter}) is not visible yet.`, undefined, { 'retry-after': '60' });
    return { image, rootDevice };
  }
}
