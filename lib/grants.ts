import { Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { tags } from '../src/adapters/aws/ec2-compute.js';
import { tableSchema } from '../src/store/table.js';
import type { OperationAccess } from './operation-access.js';
import type { ProvisionerFunction } from './provisioner-function.js';
import type { Schedules } from './schedules.js';

export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/** The resources an access entry can name. */
export interface AccessResources {
  table: Table;
  keysSecret: ISecret;
  schedules: Schedules;
  /** The SSM parameter names (with `*` for the version) the catalog's EC2 clusters take their AMI from. */
  amiParameters: string[];
  /** The IAM role names (with their paths) of the instance profiles the catalog's launch templates name. */
  instanceRoles: string[];
  // notifications
  /** The secret webhook deliveries are signed with. */
  webhookSecret: ISecret;
}

/** Gives a function exactly what its `operationAccess` entry says, field by field, and nothing else. */
export function grantAccess(fn: ProvisionerFunction, access: OperationAccess, resources: AccessResources): void {
  grantTable(resources.table, fn, access.table ?? []);
  if (access.signs) {
    fn.addEnvironment('PROVISIONER_KEYS_SECRET', resources.keysSecret.secretArn);
    resources.keysSecret.grantRead(fn);
  }
  if (access.schedules) {
    if ('creates' in access.schedules) resources.schedules.grantCreate(fn, access.schedules.creates);
    else resources.schedules.grantDelete(fn);
  }
  if (access.ec2) grantEc2(fn, access.ec2, resources);
  // notifications
  if (access.webhookSecret) {
    fn.addEnvironment('PROVISIONER_WEBHOOK_SECRET_ARN', resources.webhookSecret.secretArn);
    resources.webhookSecret.grantRead(fn);
  }
}

/**
 * Hands a function this stack's value of the `provisioner:managed` tag, its name, and returns it for
 * the IAM conditions: stacks sharing an account and region then neither sweep nor may touch each
 * other's resources. (CDK refuses a stack name that is not a plain string, so it is never a token.)
 * Every function whose providers build an adapter that tags, reads or sweeps resources needs it.
 */
export function passManagedTag(fn: ProvisionerFunction): string {
  const { stackName } = Stack.of(fn);
  fn.addEnvironment('PROVISIONER_MANAGED_TAG', stackName);
  return stackName;
}

/**
 * Exactly the DynamoDB actions named, on the table; Query also on the named index (no `index/*`).
 * CDK's grantRead/WriteData give more actions than an operation needs.
 */
export function grantTable(table: Table, grantee: IGrantable, actions: TableAction[]): void {
  if (actions.length === 0) return;
  const resources = [table.tableArn];
  if (actions.includes('Query')) resources.push(...tableSchema.indexes.map((index) => `${table.tableArn}/index/${index.name}`));
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources }));
}

/**
 * EC2 by level: describe (no resource-level permissions exist); `manage` also terminates only
 * instances tagged as this stack's; `launch` also runs instances and volumes that must carry that
 * tag, resolving only the catalog's AMI parameters and passing only its instance roles.
 */
export function grantEc2(
  fn: ProvisionerFunction,
  level: NonNullable<OperationAccess['ec2']>,
  { amiParameters, instanceRoles }: Pick<AccessResources, 'amiParameters' | 'instanceRoles'>,
): void {
  const stack = Stack.of(fn);
  const arn = (type: string) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:${type}/*`;
  const policy = (statement: PolicyStatement) => fn.grantPrincipal.addToPrincipalPolicy(statement);
  // Even a reader needs it: it tells which instances are this stack's.
  const managed = passManagedTag(fn);
  policy(new PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
  acknowledgeWildcards(fn.role, ['Resource::*'], 'ec2:DescribeInstances supports no resource-level permissions; it reads only.');
  if (level === 'read') return;

  policy(
    new PolicyStatement({
      actions: ['ec2:TerminateInstances'],
      resources: [arn('instance')],
      conditions: { StringEquals: { [`aws:ResourceTag/${tags.managed}`]: managed } },
    }),
  );
  acknowledgeWildcards(fn.role, [`Resource::${ec2Finding('instance')}`], 'Instance ids are made by EC2 at launch; terminating is limited to instances whose provisioner:managed tag names this stack.');
  if (level === 'manage') return;

  policy(
    new PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringEquals: { [`aws:RequestTag/${tags.managed}`]: managed } },
    }),
  );
  policy(
    new PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [arn('network-interface'), arn('subnet'), arn('security-group'), arn('launch-template'), arn('key-pair'), `arn:${stack.partition}:ec2:${stack.region}::image/*`],
    }),
  );
  policy(
    new PolicyStatement({
      actions: ['ec2:CreateTags'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
  );
  if (amiParameters.length > 0) {
    // RunInstances resolves `resolve:ssm:<name>` as the caller: only the catalog's AMI parameters.
    const parameters = amiParameters.map((name) => `arn:${stack.partition}:ssm:${stack.region}:${stack.account}:parameter${name}`);
    policy(new PolicyStatement({ actions: ['ssm:GetParameters'], resources: parameters }));
    acknowledgeWildcards(
      fn.role,
      amiParameters.filter((name) => name.includes('*')).map((name) => `Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter${name}`),
      'The AMI parameter of each version a deploy may ask for, as the catalog names them.',
    );
  }
  if (instanceRoles.length > 0) {
    // A launch template's instance profile hands its role to the instances: EC2 checks the launcher may pass it.
    policy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: instanceRoles.map((name) => `arn:${stack.partition}:iam::${stack.account}:role/${name}`),
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );
  }
  acknowledgeWildcards(
    fn.role,
    ['volume', 'network-interface', 'subnet', 'security-group', 'launch-template', 'key-pair'].map((type) => `Resource::${ec2Finding(type)}`).concat('Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*'),
    'RunInstances touches resources named by the catalog\'s launch templates; new instances and volumes must carry provisioner:managed naming this stack.',
  );
}

/** How cdk-nag spells an EC2 ARN of any resource of a type in this account and region. */
const ec2Finding = (type: string) => `arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${type}/*`;

/** Acknowledges IAM5 wildcard findings on a role, each with the reason it is as narrow as it can be. */
export function acknowledgeWildcards(scope: Construct | undefined, findings: string[], reason: string): void {
  if (!scope) return;
  for (const finding of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
}
