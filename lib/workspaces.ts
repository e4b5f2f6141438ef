import { Stack } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { workspaceTags } from '../src/adapters/aws/ecs-workspaces.js';
import type { Catalog } from '../src/domain/catalog.js';
import { acknowledgeWildcards, passManagedTag } from './grants.js';
import type { OperationAccess } from './operation-access.js';
import type { ProvisionerFunction } from './provisioner-function.js';

export interface WorkspacesProps {
  catalog: Catalog;
}

/**
 * The shared workspace cluster (one ECS service per workspace in it) and the grants on it: every
 * ECS permission is scoped to this cluster's workspace services and tasks, and only the task
 * execution role the catalog names may be passed.
 */
export class Workspaces extends Construct {
  readonly cluster: CfnCluster;

  constructor(scope: Construct, id: string, private readonly props: WorkspacesProps) {
    super(scope, id);
    this.cluster = new CfnCluster(this, 'Cluster', { clusterSettings: [{ name: 'containerInsights', value: 'enabled' }] });
  }

  /** What an `operationAccess` entry's `workspaces` level allows, and the cluster's name in the function's environment. */
  grant(fn: ProvisionerFunction, level: NonNullable<OperationAccess['workspaces']>): void {
    const stack = Stack.of(this);
    const clusterName = this.cluster.ref;
    const arn = (type: string) => `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:${type}/${clusterName}/*`;
    const services = `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:service/${clusterName}/workspace-*`;
    const inCluster = { ArnEquals: { 'ecs:cluster': this.cluster.attrArn } };
    const policy = (statement: PolicyStatement) => fn.grantPrincipal.addToPrincipalPolicy(statement);
    fn.addEnvironment('PROVISIONER_WORKSPACE_CLUSTER', clusterName);
    const managed = passManagedTag(fn);
    policy(new PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [services] }));
    policy(new PolicyStatement({ actions: ['ecs:ListTasks'], resources: [arn('container-instance')], conditions: inCluster }));
    policy(new PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [arn('task')], conditions: inCluster }));
    const findings = [`Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service/<${stack.getLogicalId(this.cluster)}>/workspace-*`, ...['container-instance', 'task'].map((type) => `Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:${type}/<${stack.getLogicalId(this.cluster)}>/*`)];
    if (level !== 'read') {
      policy(new PolicyStatement({ actions: ['ecs:DeleteService', 'ecs:TagResource'], resources: [services], conditions: { StringEquals: { [`aws:ResourceTag/${workspaceTags.managed}`]: managed } } }));
      // A deleted workspace's task definitions are deregistered; neither action has resource-level permissions.
      policy(new PolicyStatement({ actions: ['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'], resources: ['*'] }));
      findings.push('Resource::*');
    }
    if (level === 'launch') {
      policy(new PolicyStatement({ actions: ['ecs:CreateService'], resources: [services], conditions: { StringEquals: { [`aws:RequestTag/${workspaceTags.managed}`]: managed } } }));
      // RegisterTaskDefinition has no resource-level permissions: the request must carry this stack's tag.
      policy(new PolicyStatement({ actions: ['ecs:RegisterTaskDefinition'], resources: ['*'], conditions: { StringEquals: { [`aws:RequestTag/${workspaceTags.managed}`]: managed } } }));
      policy(
        new PolicyStatement({
          actions: ['ecs:TagResource'],
          resources: [services, `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:task-definition/provisioner-workspace-*`],
          conditions: { StringEquals: { 'ecs:CreateAction': ['CreateService', 'RegisterTaskDefinition'] } },
        }),
      );
      findings.push('Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/provisioner-workspace-*');
      const backend = this.props.catalog.workspaces.backend;
      if (backend.kind === 'ecs' && backend.execution_role_arn) {
        policy(new PolicyStatement({ actions: ['iam:PassRole'], resources: [backend.execution_role_arn], conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }));
      }
    }
    acknowledgeWildcards(fn.role, findings, 'Workspace services and tasks get their names at run time; every ECS action is limited to the stack\'s workspace cluster (and new resources must carry provisioner:managed naming this stack).');
  }
}
