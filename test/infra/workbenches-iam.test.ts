import { describe, expect, it } from '@jest/globals';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type Level, workbenchGrants } from '../../lib/workbenches.js';
import { parseCatalog } from '../../src/domain/catalog.js';

/** Issue 21, point 2: the workbench functions pass exactly the roles the catalog names, each only to its service. */
const ecsSection = (extra: Record<string, unknown> = {}) =>
  parseCatalog(
    JSON.stringify({
      organization: 'acme',
      clusters: [],
      workbenches: {
        ecs: {
          cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/workbenches',
          task_definition: 'workbench',
          container: 'ide',
          task_roles: ['arn:aws:iam::123456789012:role/workbench-task'],
          dedicated_launch_template: 'lt-0123456789abcdef0',
          ...extra,
        },
      },
    }),
    'test',
  ).workbenches.ecs!;

function statements(level: Level, extra?: Record<string, unknown>) {
  const granted: ReturnType<PolicyStatement['toStatementJson']>[] = [];
  workbenchGrants({ policy: (s) => granted.push(s.toStatementJson()), acknowledge: () => undefined }, level, ecsSection(extra), 'Provisioner');
  return granted as { Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string>> }[];
}

const passRoles = (level: Level, extra?: Record<string, unknown>) => statements(level, extra).filter((s) => [s.Action].flat().includes('iam:PassRole'));

describe('workbench PassRole', () => {
  it('passes the dedicated instances\' role(s) the catalog names, only to EC2, only where instances are launched', () => {
    const role = 'arn:aws:iam::123456789012:role/workbench-instance';
    expect(passRoles('launch', { dedicated_instance_roles: [role] })).toEqual([
      { Action: 'iam:PassRole', Effect: 'Allow', Resource: 'arn:aws:iam::123456789012:role/workbench-task', Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
      { Action: 'iam:PassRole', Effect: 'Allow', Resource: role, Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } },
    ]);
    expect(passRoles('manage', { dedicated_instance_roles: [role] })).toEqual([]);
  });

  it('passes no role to EC2 when the catalog names none, nor without a dedicated launch template', () => {
    expect(passRoles('launch').map((s) => s.Condition?.StringEquals?.['iam:PassedToService'])).toEqual(['ecs-tasks.amazonaws.com']);
    expect(passRoles('launch', { dedicated_launch_template: undefined, dedicated_instance_roles: ['arn:aws:iam::123456789012:role/x'] }).map((s) => s.Resource)).toEqual(['arn:aws:iam::123456789012:role/workbench-task']);
  });

  it('refuses a role that is not an IAM ARN', () => {
    expect(() => ecsSection({ dedicated_instance_roles: ['workbench-instance'] })).toThrow(/dedicated_instance_roles/);
  });
});
