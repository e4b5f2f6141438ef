import type * as Ec2Module from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type * as SsmModule from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ProvisionerError } from '../../domain/errors.js';
import { generateRunScript, type RunnerHooks, shellQuote } from '../../domain/run-script.js';
import type { LaunchOutcome, RunLaunch, RunMachines } from '../../ports.js';
import { tags } from './ec2-compute.js';

/** The tag naming a run's instance; IAM lets the run functions launch and terminate only instances carrying it. */
export const runTag = 'provisioner:run';

export interface Ec2RunnerOptions {
  /** The log bucket; the instance profile may write only under `runs/<any id>/<its aws:userid>/`. */
  bucket: string;
  /** The region of the bucket, for the instance's AWS CLI. */
  region: string;
  instanceProfileArn: string;
  /** The unique id (`AROA...`) of the profile's role: an instance's `aws:userid` is `<role id>:<instance id>`. */
  runnerRoleId: string;
  /** Default VPC when absent. */
  subnetId?: string;
  /** This stack's value of the `provisioner:managed` tag, which IAM requires on the instances it launches and terminates. */
  managedBy: string;
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

/**
 * What the script does on EC2: works in /var/tmp, learns its `aws:userid` from STS (allowed to
 * anyone), uploads with the AWS CLI under the instance profile to the one prefix IAM lets it write,
 * shuts down (= terminate).
 */
export function ec2Hooks(bucket: string, region: string, runId: string): RunnerHooks {
  const aws = `aws --region ${shellQuote(region)}`;
  return {
    dir: '/var/tmp/provisioner-run',
    writer: `${aws} sts get-caller-identity --query UserId --output text`,
    upload: `${aws} s3 cp --only-show-errors "$1" ${shellQuote(`s3://${bucket}/runs/${runId}/`)}"$RUN_WRITER/$2"`,
    powerOff: 'shutdown -h now',
    loadSecrets: ':',
  };
}

/**
 * One spot instance per run: the AMI from its public SSM parameter, the generated script as user
 * data, terminated when it shuts down or is interrupted, the run id as its client token (a retry
 * starts nothing new) and its tag. The SDK modules are imported on first use.
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

  async launch(launch: RunLaunch): Promise<LaunchOutcome> {
    const image = await this.image(launch.amiParameter);
    // Interim: secrets still travel in the user data, as before, until the runner fetches them at boot.
    const { secretEnv, ...input } = launch.script;
    const script = generateRunScript({ ...input, env: { ...input.env, ...secretEnv } }, ec2Hooks(this.options.bucket, this.options.region, launch.runId));
    const { sdk, client } = await this.ec2();
    const tagList = [
      { Key: tags.managed, Value: this.options.managedBy },
      { Key: runTag, Value: launch.runId },
    ];
    try {
      const started = await client.send(
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
          UserData: Buffer.from(script).toString('base64'),
          ...(this.options.subnetId && { SubnetId: this.options.subnetId }),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tagList },
            { ResourceType: 'volume', Tags: tagList },
          ],
        }),
      );
      const id = started.Instances?.[0]?.InstanceId;
      if (!id) throw new Error('RunInstances returned no instance');
      return { machine: id, writer: `${this.options.runnerRoleId}:${id}` };
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (capacityErrors.has(name)) return { refused: `EC2 refused a spot ${launch.instanceType}: ${name}: ${(error as Error).message}` };
      throw error;
    }
  }

  async stop(runId: string, machine?: string): Promise<void> {
    const { sdk, client } = await this.ec2();
    let ids = machine?.startsWith('i-') ? [machine] : [];
    if (ids.length === 0) {
      // Not recorded (the launch answer was lost): find it by its tag.
      const found = await client.send(
        new sdk.DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${runTag}`, Values: [runId] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      );
      ids = (found.Reservations ?? []).flatMap((r) => (r.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : [])));
    }
    if (ids.length === 0) return;
    try {
      await client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'InvalidInstanceID.NotFound') throw error;
    }
  }

  private async image(parameter: string): Promise<string> {
    const { sdk, client } = await this.ssm();
    const answer = await client.send(new sdk.GetParameterCommand({ Name: parameter }));
    const value = answer.Parameter?.Value;
    if (!value?.startsWith('ami-')) throw new ProvisionerError('backend_unavailable', `SSM parameter ${parameter} names no AMI.`, undefined, { 'retry-after': '60' });
    return value;
  }
}
