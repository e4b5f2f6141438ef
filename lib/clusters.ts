import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { tags } from '../src/adapters/aws/ec2-compute.js';
import type { Operation } from '../src/api/routes.js';
import { targetArnVariable } from '../src/scheduling/targets.js';
import { grantTable } from './grants.js';
import { operationAccess } from './operation-access.js';
import { ProvisionerFunction } from './provisioner-function.js';

export interface ClustersProps {
  table: Table;
  catalogPath: string;
  functions: Map<Operation | 'fallback', ProvisionerFunction>;
  environment: Record<string, string>;
}

/**
 * Timed deletes and the EC2 backend: the schedule group, the role EventBridge Scheduler assumes
 * (allowed to invoke only the destroy and deadline-check functions), the deadline-check function,
 * and per function exactly the scheduler and EC2 actions its operation needs.
 */
export class Clusters extends Construct {
  readonly scheduleGroup: ScheduleGroup;
  readonly schedulerRole: Role;
  readonly checkDeadline: ProvisionerFunction;

  constructor(scope: Construct, id: string, props: ClustersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.scheduleGroup = new ScheduleGroup(this, 'Schedules', {});
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to run Provisioner destroys and deadline checks',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    this.checkDeadline = new ProvisionerFunction(this, 'check-deadline', {
      operation: 'check-deadline',
      catalogPath: props.catalogPath,
      environment: { ...props.environment, PROVISIONER_TABLE: props.table.tableName },
    });
    const destroy = props.functions.get('destroy');
    if (!destroy) throw new Error('the route table has no destroy operation');
    const targets = { destroy, 'check-deadline': this.checkDeadline };
    for (const target of Object.values(targets)) target.grantInvoke(this.schedulerRole);
    acknowledge(
      this.schedulerRole,
      Object.values(targets).map((fn) => `Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*`),
      'Invoking a function also covers its versions (ARN:*); only the destroy and deadline-check functions.',
    );

    const workers: [string, ProvisionerFunction, ('destroy' | 'check-deadline')[]][] = [['check-deadline', this.checkDeadline, []]];
    for (const [operation, fn] of props.functions) {
      const clusters = operation === 'fallback' ? undefined : operationAccess[operation].clusters;
      if (clusters) workers.push([operation, fn, clusters.creates]);
    }
    for (const [operation, fn, creates] of workers) {
      fn.addEnvironment('PROVISIONER_SCHEDULE_GROUP', this.scheduleGroup.scheduleGroupName);
      fn.addEnvironment('PROVISIONER_SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn);
      for (const target of creates) fn.addEnvironment(targetArnVariable(target), targets[target].functionArn);
      this.grantSchedules(fn, creates.length > 0);
      this.grantEc2(fn, operation === 'deploy');
    }
    grantTable(props.table, this.checkDeadline, ['GetItem', 'UpdateItem', 'PutItem', 'Query']);
  }

  /** Create (if it makes schedules) and delete schedules in the group; pass only the scheduler role, only to the scheduler. */
  private grantSchedules(fn: ProvisionerFunction, creates: boolean): void {
    const schedules = `arn:${Stack.of(this).partition}:scheduler:${Stack.of(this).region}:${Stack.of(this).account}:schedule/${this.scheduleGroup.scheduleGroupName}/*`;
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: creates ? ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'] : ['scheduler:DeleteSchedule'], resources: [schedules] }),
    );
    if (creates) {
      fn.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [this.schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }
    acknowledge(fn.role, [`Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${Stack.of(this).resolve(this.scheduleGroup.scheduleGroupName)}/*`], 'Schedule names are made per cluster and schedule at run time, inside the stack\'s own schedule group only.');
  }

  /** Describe (no resource-level permissions exist), terminate only instances tagged as ours, and launch them tagged (deploy). */
  private grantEc2(fn: ProvisionerFunction, launches: boolean): void {
    const stack = Stack.of(this);
    const arn = (type: string) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:${type}/*`;
    const policy = (statement: PolicyStatement) => fn.grantPrincipal.addToPrincipalPolicy(statement);
    policy(new PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    policy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['ec2:TerminateInstances'],
        resources: [arn('instance')],
        conditions: { StringEquals: { [`aws:ResourceTag/${tags.managed}`]: 'true' } },
      }),
    );
    if (launches) {
      policy(
        new PolicyStatement({
          actions: ['ec2:RunInstances'],
          resources: [arn('instance'), arn('volume')],
          conditions: { StringEquals: { [`aws:RequestTag/${tags.managed}`]: 'true' } },
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
    }
    acknowledge(fn.role, ['Resource::*'], 'ec2:DescribeInstances supports no resource-level permissions; it reads only.');
    acknowledge(fn.role, [`Resource::${ec2Arn('instance')}`], 'Instance ids are made by EC2 at launch; terminating is limited to instances tagged provisioner:managed.');
    if (launches) {
      acknowledge(
        fn.role,
        ['volume', 'network-interface', 'subnet', 'security-group', 'launch-template', 'key-pair'].map((type) => `Resource::${ec2Arn(type)}`).concat('Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*'),
        'RunInstances touches resources named by the catalog\'s launch templates; new instances and volumes must carry the provisioner:managed tag.',
      );
    }
  }
}

const ec2Arn = (type: string) => `arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${type}/*`;

/** Acknowledges IAM5 wildcard findings on a role, each with the reason it is as narrow as it can be. */
function acknowledge(scope: Construct | undefined, findings: string[], reason: string): void {
  if (!scope) return;
  for (const finding of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
}
