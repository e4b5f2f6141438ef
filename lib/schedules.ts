import { type CfnElement, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { type Operation, routes } from '../src/api/routes.js';
import { type ScheduleTarget, scheduleTargetNames, scheduleTargets, targetArnVariable } from '../src/scheduling/targets.js';
import { type DeadLetters, deliveryRetries } from './dead-letters.js';
import { acknowledgeWildcards } from './grants.js';
import type { TargetOnlyFunction } from './operation-access.js';
import { ProvisionerFunction } from './provisioner-function.js';

export interface SchedulesProps {
  /** The route functions (the API's): a target whose lambda is a route runs in that route's function. */
  functions: ReadonlyMap<string, ProvisionerFunction>;
  catalogPath: string;
  /** Settings every function gets, for the target-only functions made here. */
  environment: Record<string, string>;
  /** Where a firing that cannot be delivered, or whose function keeps failing, ends up. */
  deadLetters: DeadLetters;
}

/**
 * Timed actions, built from the schedule-target table: the schedule group, the role EventBridge
 * Scheduler assumes (allowed to invoke only the targets' functions and to dead-letter a firing), and
 * a function for each target whose lambda is not a route. Functions are given schedules with
 * `grantCreate`/`grantDelete`.
 */
export class Schedules extends Construct {
  readonly scheduleGroup: ScheduleGroup;
  readonly schedulerRole: Role;
  /** The functions made here, for targets whose lambda is not a route. */
  readonly functions = new Map<TargetOnlyFunction, ProvisionerFunction>();
  private readonly targets: Record<ScheduleTarget, ProvisionerFunction>;
  private readonly deadLetters: DeadLetters;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.deadLetters = props.deadLetters;
    this.scheduleGroup = new ScheduleGroup(this, 'Group', {});
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to run the Provisioner schedule targets',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });

    const runs = (target: ScheduleTarget) => {
      const lambda = scheduleTargets[target].lambda;
      return isTargetOnly(lambda) ? this.targetOnlyFunction(lambda, props) : routeFunction(props.functions, lambda);
    };
    this.targets = Object.fromEntries(scheduleTargetNames.map((target) => [target, runs(target)])) as Record<ScheduleTarget, ProvisionerFunction>;
    const invoked = new Set(Object.values(this.targets));
    for (const fn of invoked) {
      fn.grantInvoke(this.schedulerRole);
      // The Scheduler invokes asynchronously: a function that keeps failing leaves its event in the queue.
      props.deadLetters.receiveFailures(fn);
    }
    props.deadLetters.grantSend(this.schedulerRole);
    // Standing schedules (the janitor's hourly sweep) are made here, from the table's `every`.
    for (const target of scheduleTargetNames) {
      const entry = scheduleTargets[target];
      if (!('every' in entry)) continue;
      new CfnSchedule(this, `Every-${target}`, {
        groupName: this.scheduleGroup.scheduleGroupName,
        scheduleExpression: entry.every,
        flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 15 },
        target: {
          arn: this.targets[target].functionArn,
          roleArn: this.schedulerRole.roleArn,
          input: '{}',
          retryPolicy: { maximumRetryAttempts: deliveryRetries.attempts, maximumEventAgeInSeconds: deliveryRetries.maxAge.toSeconds() },
          deadLetterConfig: { arn: props.deadLetters.queue.queueArn },
        },
      });
    }
    acknowledgeWildcards(
      this.schedulerRole,
      [...invoked].map((fn) => `Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*`),
      'Invoking a function also covers its versions (ARN:*); only the schedule targets\' functions.',
    );
  }

  /** Made once per lambda: two targets may share one. */
  private targetOnlyFunction(lambda: TargetOnlyFunction, props: SchedulesProps): ProvisionerFunction {
    let fn = this.functions.get(lambda);
    if (!fn) {
      fn = new ProvisionerFunction(this, lambda, { operation: lambda, catalogPath: props.catalogPath, environment: props.environment });
      this.functions.set(lambda, fn);
    }
    return fn;
  }

  /** The function a target runs in. */
  targetFunction(target: ScheduleTarget): ProvisionerFunction {
    return this.targets[target];
  }

  /**
   * Lets a function create (and delete) schedules of these targets: their ARNs in its environment,
   * CreateSchedule in the group, and passing the scheduler role, only to the scheduler.
   */
  grantCreate(fn: ProvisionerFunction, targets: readonly [ScheduleTarget, ...ScheduleTarget[]]): void {
    for (const target of targets) {
      const targetFn = this.targetFunction(target);
      // Its own ARN in its own environment is a CloudFormation cycle.
      if (targetFn === fn) throw new Error(`${fn.node.id} runs schedule target ${target}, so it cannot create schedules of it`);
      fn.addEnvironment(targetArnVariable(target), targetFn.functionArn);
    }
    this.grantSchedules(fn, ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']);
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
  }

  /** Lets a function delete schedules in the group (cancelling a destroy, cleaning up a failed cluster). */
  grantDelete(fn: ProvisionerFunction): void {
    this.grantSchedules(fn, ['scheduler:DeleteSchedule']);
  }

  /** The group and role settings the runtime's scheduler reads, and the actions on the group's schedules. */
  private grantSchedules(fn: ProvisionerFunction, actions: string[]): void {
    const stack = Stack.of(this);
    fn.addEnvironment('PROVISIONER_SCHEDULE_GROUP', this.scheduleGroup.scheduleGroupName);
    fn.addEnvironment('PROVISIONER_SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn);
    fn.addEnvironment('PROVISIONER_DEAD_LETTER_ARN', this.deadLetters.queue.queueArn);
    const schedules = `arn:${stack.partition}:scheduler:${stack.region}:${stack.account}:schedule/${this.scheduleGroup.scheduleGroupName}/*`;
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [schedules] }));
    acknowledgeWildcards(
      fn.role,
      [`Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${stack.resolve(this.scheduleGroup.scheduleGroupName)}/*`],
      'Schedule names are made per cluster and schedule at run time, inside the stack\'s own schedule group only.',
    );
  }
}

function isTargetOnly(lambda: string): lambda is TargetOnlyFunction {
  return !Object.hasOwn(routes, lambda);
}

function routeFunction(functions: ReadonlyMap<string, ProvisionerFunction>, operation: Operation): ProvisionerFunction {
  const fn = functions.get(operation);
  if (!fn) throw new Error(`no function for the ${operation} route`);
  return fn;
}
