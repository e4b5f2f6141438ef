import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { readFileSync } from 'node:fs';
import { workbenchTags } from '../src/adapters/aws/ecs-workbenches.js';
import { parseCatalog } from '../src/domain/catalog.js';
import { acknowledgeWildcards, passManagedTag } from './grants.js';
import { type FunctionName, type OperationAccess, operationAccess } from './operation-access.js';
import type { ProvisionerFunction } from './provisioner-function.js';

export type Level = NonNullable<OperationAccess['workbenches']>;

/**
 * The `workbenches` field of the access table, for every function that has one, scoped by the
 * catalog's `workbenches.ecs` section: tasks only in the workbench cluster, RunTask only of the
 * workbench task-definition family, PassRole only of its task roles (only to ECS tasks), instance
 * actions only on instances tagged as this stack's. A catalog without that section grants nothing
 * (the AWS backend then answers 503), though the functions still get the stack's managed tag, which
 * their backend is built with.
 */
export function grantWorkbenches(functions: ReadonlyMap<FunctionName, ProvisionerFunction>, catalogPath: string): void {
  const ecs = parseCatalog(readFileSync(catalogPath, 'utf8'), catalogPath).workbenches.ecs;
  for (const [name, fn] of functions) {
    const level = operationAccess[name].workbenches;
    if (!level) continue;
    const managed = passManagedTag(fn);
    if (!ecs) continue;
    workbenchGrants(
      {
        policy: (statement) => fn.grantPrincipal.addToPrincipalPolicy(statement),
        acknowledge: (findings, reason) => acknowledgeWildcards(fn.role, findings.map((f) => `Resource::${f}`), reason),
      },
      level,
      ecs,
      managed,
    );
  }
}

type EcsSection = NonNullable<ReturnType<typeof parseCatalog>['workbenches']['ecs']>;

/** Where a level's statements go: the function's policy, and the cdk-nag findings acknowledged with their reason. */
export interface GrantSink {
  policy(statement: PolicyStatement): void;
  acknowledge(findings: string[], reason: string): void;
}

/** The statements of one level of workbench access, scoped by the catalog's `workbenches.ecs` section. */
export function workbenchGrants(sink: GrantSink, level: Level, ecs: EcsSection, managed: string): void {
  // arn:<partition>:ecs:<region>:<account>:cluster/<name>: the other ARNs live beside the cluster.
  const [, partition, , region, account, resource = ''] = ecs.cluster.split(':');
  const clusterName = resource.replace(/^cluster\//, '');
  const arn = (service: string, rest: string) => `arn:${partition}:${service}:${region}:${account}:${rest}`;
  const inCluster = { ArnEquals: { 'ecs:cluster': ecs.cluster } };
  const tasks = arn('ecs', `task/${clusterName}/*`);
  const instances = arn('ec2', 'instance/*');
  const ours = { StringEquals: { [`aws:ResourceTag/${workbenchTags.managed}`]: managed } };
  const { policy, acknowledge } = sink;

  policy(new PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: inCluster }));
  policy(new PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [tasks], conditions: inCluster }));
  policy(new PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
  acknowledge(['*'], 'ecs:ListTasks (limited to the workbench cluster by condition) and ec2:DescribeInstances support no resource-level permissions.');
  acknowledge([tasks], 'Task ids are made by ECS; only tasks of the workbench cluster.');
  if (level === 'read') return;

  policy(new PolicyStatement({ actions: ['ecs:StopTask'], resources: [tasks], conditions: inCluster }));
  policy(new PolicyStatement({ actions: ['ec2:StopInstances', 'ec2:TerminateInstances'], resources: [instances], conditions: ours }));
  acknowledge([instances], 'Dedicated instance ids are made by EC2; only instances whose provisioner:managed tag names this stack.');
  if (level === 'manage') return;

  const family = arn('ecs', `task-definition/${ecs.task_definition}:*`);
  policy(new PolicyStatement({ actions: ['ecs:RunTask'], resources: [family], conditions: inCluster }));
  policy(new PolicyStatement({ actions: ['ecs:TagResource'], resources: [tasks], conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } } }));
  policy(
    new PolicyStatement({
      actions: ['iam:PassRole'],
      resources: ecs.task_roles,
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  );
  acknowledge([family], 'Every revision of the workbench task-definition family, and only in the workbench cluster.');
  if (!ecs.dedicated_launch_template) return;

  const volumes = arn('ec2', 'volume/*');
  // The task waits for the instance to register, then is placed on its container instance.
  policy(new PolicyStatement({ actions: ['ecs:ListContainerInstances'], resources: [ecs.cluster] }));
  policy(new PolicyStatement({ actions: ['ecs:StartTask'], resources: [family], conditions: inCluster }));
  policy(new PolicyStatement({ actions: ['ecs:TagResource'], resources: [tasks], conditions: { StringEquals: { 'ecs:CreateAction': 'StartTask' } } }));
  policy(new PolicyStatement({ actions: ['ec2:StartInstances'], resources: [instances], conditions: ours }));
  policy(
    new PolicyStatement({
      actions: ['ec2:RunInstances'],
      resources: [instances, volumes],
      conditions: { StringEquals: { [`aws:RequestTag/${workbenchTags.managed}`]: managed } },
    }),
  );
  const launchedFrom = ['network-interface/*', 'subnet/*', 'security-group/*', `launch-template/${ecs.dedicated_launch_template}`, 'key-pair/*'].map((r) => arn('ec2', r));
  const images = `arn:${partition}:ec2:${region}::image/*`;
  policy(new PolicyStatement({ actions: ['ec2:RunInstances'], resources: [...launchedFrom, images] }));
  policy(new PolicyStatement({ actions: ['ec2:CreateTags'], resources: [instances, volumes], conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } } }));
  // The launch template's instance profile passes its role to EC2: exactly the roles the catalog names.
  if (ecs.dedicated_instance_roles.length > 0) {
    policy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: ecs.dedicated_instance_roles,
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );
  }
  acknowledge(
    [volumes, images, ...launchedFrom.filter((r) => r.endsWith('*'))],
    'RunInstances of the dedicated launch template touches the resources it names; new instances and volumes must carry provisioner:managed naming this stack.',
  );
}
