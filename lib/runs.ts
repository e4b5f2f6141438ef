import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { CfnServiceLinkedRole, InstanceProfile, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tags } from '../src/adapters/aws/ec2-compute.js';
import { runTag, secretInstanceTag, userDataBytes, userDataLimitBytes } from '../src/adapters/aws/ec2-runner.js';
import type { RunsConfig } from '../src/domain/catalog/runs.js';
import { acknowledgeWildcards, grantTable, passManagedTag } from './grants.js';
import type { OperationAccess } from './operation-access.js';
import { ProvisionerFunction } from './provisioner-function.js';
import type { Schedules } from './schedules.js';

/**
 * The log bucket's name: `provisioner-runs-<this stack's id>`, the UUID CloudFormation gives each
 * stack it creates. No two stacks share it, and a stack deleted (its bucket retained) and created
 * again gets a new one, as a name CloudFormation generated would; unlike a generated name, it is
 * known before the bucket exists, so the function the bucket notifies can name it without a cycle.
 */
export function runBucketName(stack: Stack): string {
  return `provisioner-runs-${Fn.select(2, Fn.split('/', stack.stackId))}`;
}

/** How cdk-nag spells the bucket's name (from the stack id) and the run objects' ARN. */
const bucketFinding = 'provisioner-runs-{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}';
const runObjectsFinding = `Resource::arn:<AWS::Partition>:s3:::${bucketFinding}/runs/*`;
/**
 * What a run instance may write: `runs/<any run id>/<its aws:userid>/...`. For a role an EC2
 * instance assumes, IAM sets `aws:userid` to `<role id>:<instance id>`, so no instance can write
 * under another's prefix; the completion function counts only the prefix recorded for the run.
 * (`${aws:userid}` is an IAM policy variable: it must reach the policy as written.)
 */
export const runnerWritesUnder = 'runs/*/${aws:userid}/*';
/** How cdk-nag spells the run secrets' parameter ARN. */
const secretsFinding = (stackName: string) => `Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/${stackName}/runs/*`;
// cdk-nag spells the policy variable `<aws:userid>`.
const runnerObjectsFinding = `Resource::arn:<AWS::Partition>:s3:::${bucketFinding}/runs/*/<aws:userid>/*`;

export interface RunsProps {
  table: Table;
  schedules: Schedules;
  catalogPath: string;
  /** What every function gets (table, issuer, ...). */
  environment: Record<string, string>;
  /** Logs and results expire after this many days (the catalog's `runs.log_expiry_days`). */
  logExpiryDays: number;
  /** The catalog's runs: each plan's script must fit in EC2 user data. */
  runsConfig?: RunsConfig;
  /** Where run instances start (CDK context `runSubnets`); the default VPC when absent. */
  subnetIds?: string[];
  /** Their security group (CDK context `runSecurityGroup`); the VPC's default when absent. */
  securityGroupId?: string;
  /** Create `AWSServiceRoleForEC2Spot` with the stack (CDK context `spotServiceLinkedRole`, default true; false when the account has it). */
  spotServiceLinkedRole?: boolean;
}

/** The synth fails on a plan whose script (with the longest ref, URL and names allowed) outgrows EC2 user data. */
export function checkUserDataFits(runs: RunsConfig | undefined): void {
  for (const [name, plan] of Object.entries(runs?.plans ?? {})) {
    const bytes = userDataBytes(plan);
    if (bytes > userDataLimitBytes) {
      throw new Error(`runs.plans.${name}: its script can reach ${bytes} bytes, over EC2's 16 KB of user data; shorten its steps (move long commands into the repository).`);
    }
  }
}

/**
 * Runs in AWS: the log bucket (encrypted, private, TLS only, expiring), the role and instance profile
 * of run instances (each may only put objects under its own `runs/<id>/<aws:userid>/`), the function
 * that records a run's end when its `result.json` lands, and the grants of the `runs` field of the
 * access table.
 */
export class Runs extends Construct {
  readonly bucket: Bucket;
  readonly runnerRole: Role;
  readonly instanceProfile: InstanceProfile;
  readonly completed: ProvisionerFunction;
  /** Where a run's secrets wait for its instance: SSM parameters `<prefix><run id>`. */
  readonly secretPrefix: string;
  private readonly placement: Pick<RunsProps, 'subnetIds' | 'securityGroupId'>;
  /** The bucket's name and object ARN as strings, not references: the function the bucket notifies reads them, and a reference would be a cycle. */
  private readonly bucketName: string;
  private readonly runObjects: string;

  constructor(scope: Construct, id: string, props: RunsProps) {
    super(scope, id);
    checkUserDataFits(props.runsConfig);
    const stack = Stack.of(this);
    this.secretPrefix = `/${stack.stackName}/runs/`;
    this.placement = { subnetIds: props.subnetIds, securityGroupId: props.securityGroupId };
    // The first spot launch in an account needs this role; CloudFormation fails on one that exists.
    if (props.spotServiceLinkedRole ?? true) new CfnServiceLinkedRole(this, 'SpotServiceLinkedRole', { awsServiceName: 'spot.amazonaws.com' });
    // A name known before the bucket exists lets the invoke permission name it without a cycle.
    const bucketName = (this.bucketName = runBucketName(stack));
    this.runObjects = `arn:${stack.partition}:s3:::${bucketName}/runs/*`;
    this.bucket = new Bucket(this, 'Logs', {
      bucketName,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ prefix: 'runs/', expiration: Duration.days(props.logExpiryDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Run logs are written by run instances and read through presigned links handed to administrators; CloudTrail covers access if needed.',
    });

    this.runnerRole = new Role(this, 'RunnerRole', { description: 'Assumed by Provisioner run instances: writes their log and result', assumedBy: new ServicePrincipal('ec2.amazonaws.com') });
    this.runnerRole.addToPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [`arn:${stack.partition}:s3:::${bucketName}/${runnerWritesUnder}`] }));
    // A run's secrets open to its own instance only: the launcher tags the parameter with the instance's ARN.
    this.runnerRole.addToPolicy(
      new PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:DeleteParameter'],
        resources: [this.secretParameters()],
        conditions: { StringEquals: { [`ssm:resourceTag/${secretInstanceTag}`]: '${ec2:SourceInstanceARN}' } },
      }),
    );
    acknowledgeWildcards(
      this.runnerRole,
      [runnerObjectsFinding],
      'Each run instance puts objects only under runs/<id>/<its own aws:userid>/ (role id:instance id); run ids are made at run time, and only the instance recorded for a run counts.',
    );
    acknowledgeWildcards(
      this.runnerRole,
      [secretsFinding(stack.stackName)],
      'Run ids are made at run time; an instance may read and delete only the parameter tagged with its own instance ARN (ec2:SourceInstanceARN).',
    );
    this.grantPushes(props.runsConfig?.push_repositories ?? []);
    this.instanceProfile = new InstanceProfile(this, 'RunnerProfile', { role: this.runnerRole });

    this.completed = new ProvisionerFunction(this, 'run-completed', { operation: 'run-completed', catalogPath: props.catalogPath, environment: props.environment });
    grantTable(props.table, this.completed, ['GetItem', 'UpdateItem', 'PutItem']);
    // notifications: a failed run is told to the webhooks.
    props.schedules.grantCreate(this.completed, ['notify']);
    this.grant(this.completed, 'stop');
    const permission = new CfnPermission(this, 'LogBucketInvokes', {
      action: 'lambda:InvokeFunction',
      functionName: this.completed.functionArn,
      principal: 's3.amazonaws.com',
      sourceArn: `arn:${stack.partition}:s3:::${bucketName}`,
      sourceAccount: stack.account,
    });
    (this.bucket.node.defaultChild as CfnBucket).notificationConfiguration = {
      lambdaConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          function: this.completed.functionArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: 'runs/' }, { name: 'suffix', value: '/result.json' }] } },
        },
      ],
    };
    // S3 checks it may invoke the function when the notification is set.
    this.bucket.node.addDependency(permission);
  }

  /** What the catalog's `runs.push_repositories` allow: pushing images to those ECR repositories only. */
  private grantPushes(repositories: string[]): void {
    if (repositories.length === 0) return;
    const stack = Stack.of(this);
    this.runnerRole.addToPolicy(
      new PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: repositories.map((name) => `arn:${stack.partition}:ecr:${stack.region}:${stack.account}:repository/${name}`),
      }),
    );
    this.runnerRole.addToPolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    acknowledgeWildcards(this.runnerRole, ['Resource::*'], 'ecr:GetAuthorizationToken supports no resource-level permissions; pushes are limited to the catalog\'s push_repositories.');
  }

  /** The ARN of every run's secret parameter. */
  private secretParameters(): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:ssm:${stack.region}:${stack.account}:parameter${this.secretPrefix}*`;
  }

  /** The `runs` level of an access entry: read < stop < start, each including the one before. */
  grant(fn: ProvisionerFunction, level: OperationAccess['runs']): void {
    if (!level) return;
    const stack = Stack.of(this);
    const policy = (statement: PolicyStatement) => fn.grantPrincipal.addToPrincipalPolicy(statement);
    fn.addEnvironment('PROVISIONER_RUN_BUCKET', this.bucketName);
    policy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.runObjects] }));
    acknowledgeWildcards(fn.role, [runObjectsFinding], 'Presigned log links and results of runs, under runs/ only; run ids are made at run time.');
    if (level === 'read') return;

    const arn = (type: string) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:${type}/*`;
    fn.addEnvironment('PROVISIONER_RUN_PROFILE_ARN', this.instanceProfile.instanceProfileArn);
    // An instance's aws:userid is `<this role id>:<instance id>`: the prefix a launch records for its run.
    fn.addEnvironment('PROVISIONER_RUN_ROLE_ID', this.runnerRole.roleId);
    fn.addEnvironment('PROVISIONER_RUN_SECRET_PREFIX', this.secretPrefix);
    // A run that ends closes its secret's door, used or not.
    policy(new PolicyStatement({ actions: ['ssm:DeleteParameter'], resources: [this.secretParameters()] }));
    acknowledgeWildcards(fn.role, [secretsFinding(stack.stackName)], 'Run ids are made at run time; only this stack\'s run secrets.');
    const managed = passManagedTag(fn);
    policy(new PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    policy(
      new PolicyStatement({
        actions: ['ec2:TerminateInstances'],
        resources: [arn('instance')],
        conditions: { StringEquals: { [`aws:ResourceTag/${tags.managed}`]: managed }, StringLike: { [`aws:ResourceTag/${runTag}`]: '?*' } },
      }),
    );
    acknowledgeWildcards(fn.role, ['Resource::*'], 'ec2:DescribeInstances supports no resource-level permissions; it reads only.');
    acknowledgeWildcards(fn.role, [`Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*`], 'Instance ids are made at launch; only run instances whose provisioner:managed tag names this stack.');
    if (level === 'stop') return;

    if (this.placement.subnetIds?.length) fn.addEnvironment('PROVISIONER_RUN_SUBNET', this.placement.subnetIds.join(','));
    if (this.placement.securityGroupId) fn.addEnvironment('PROVISIONER_RUN_SECURITY_GROUP', this.placement.securityGroupId);
    policy(new PolicyStatement({ actions: ['ssm:PutParameter', 'ssm:AddTagsToResource'], resources: [this.secretParameters()] }));
    // The root volume's device name is the AMI's; DescribeImages supports no resource-level permissions.
    policy(new PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] }));

    policy(
      new PolicyStatement({
        actions: ['ec2:RunInstances'],
        // A spot RunInstances also creates (and is authorized against) a spot request, tagged alike.
        resources: [arn('instance'), arn('volume'), arn('spot-instances-request')],
        conditions: { StringEquals: { [`aws:RequestTag/${tags.managed}`]: managed }, StringLike: { [`aws:RequestTag/${runTag}`]: '?*' } },
      }),
    );
    policy(
      new PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [arn('network-interface'), arn('subnet'), arn('security-group'), `arn:${stack.partition}:ec2:${stack.region}::image/*`],
      }),
    );
    policy(new PolicyStatement({ actions: ['ec2:CreateTags'], resources: [arn('instance'), arn('volume'), arn('spot-instances-request')], conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } } }));
    policy(new PolicyStatement({ actions: ['iam:PassRole'], resources: [this.runnerRole.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } }));
    policy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [`arn:${stack.partition}:ssm:${stack.region}::parameter/aws/service/*`] }));
    acknowledgeWildcards(
      fn.role,
      ['volume', 'spot-instances-request', 'network-interface', 'subnet', 'security-group']
        .map((type) => `Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${type}/*`)
        .concat('Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*', 'Resource::arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/*'),
      'A run instance is launched in the default VPC from an AWS-provided AMI named by a public SSM parameter; new instances and volumes must carry the run tag and provisioner:managed naming this stack.',
    );
  }
}
