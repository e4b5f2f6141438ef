import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routeEntries, routeKey } from '../../src/api/routes.js';
import { type ScheduleTarget, scheduleTargetNames, scheduleTargets, targetArnVariable } from '../../src/scheduling/targets.js';
import { tableSchema } from '../../src/store/table.js';
import { type OperationAccess, operationAccess } from '../../lib/operation-access.js';
import { ProvisionerStack } from '../../lib/provisioner-stack.js';
import { shippedCatalogFile } from '../../lib/shipped-catalog.js';
import { writeCatalog } from '../support/local-api.js';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function checkedApp(): App {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** One synthesis (it bundles every function) shared by all the stack's tests. */
let template: Template;

beforeAll(() => {
  const app = checkedApp();
  const stack = new ProvisionerStack(app, 'Provisioner');
  // Synthesis runs cdk-nag's AwsSolutions pack and throws on any unacknowledged finding.
  app.synth();
  template = Template.fromStack(stack);
});

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

/** The policy statements that allow `action`, with the logical ids of the roles they are attached to. */
const statements = (action: string): { roles: string[]; statement: Statement }[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => [s.Action].flat().includes(action))
      .map((statement) => ({ roles: policy.Properties.Roles.map((r: { Ref: string }) => r.Ref), statement })),
  );

/** Every IAM condition on the `provisioner:managed` tag in a template: the actions it guards and the value it requires. */
const managedTagConditions = (of: Template): { actions: string[]; value: unknown }[] =>
  Object.values(of.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((statement) =>
      Object.values(statement.Condition ?? {}).flatMap((byKey) =>
        Object.entries(byKey as Record<string, unknown>)
          .filter(([key]) => /^aws:(Resource|Request)Tag\/provisioner:managed$/.test(key))
          .map(([, value]) => ({ actions: [statement.Action].flat(), value })),
      ),
    ),
  );

describe('ProvisionerStack', () => {

  /** Our functions; CDK's own trigger provider is not one of them. */
  const ours = () => Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, fn]) => fn.Properties.Handler === 'index.handler');

  it('has one function per route plus the fallback, the key rotation, each target-only function (deadline check, janitor, workspace expiry, run timeout), the run completion and the instance-state drift, all nodejs22.x on arm64', () => {
    const functions = ours();
    const targetOnly = new Set(Object.values(scheduleTargets).map((t) => t.lambda).filter((lambda) => !routeEntries.some(([operation]) => operation === lambda)));
    expect(functions).toHaveLength(routeEntries.length + 4 + targetOnly.size);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.LoggingConfig?.LogGroup).toBeDefined();
    }
  });

  it('routes exactly the route table, and sends the rest to the fallback', () => {
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string);
    const expected = routeEntries.map(([, spec]) => routeKey(spec));
    expect(keys.sort()).toEqual([...expected, '$default'].sort());
  });

  it('builds the table from the one schema: keys, index, TTL, PITR, on demand, retained and protected from deletion', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' },
          { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true },
        GlobalSecondaryIndexes: tableSchema.indexes.map((index) =>
          Match.objectLike({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' },
              { AttributeName: index.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ),
      }),
    });
  });

  it('keeps function logs for a set time and logs API access', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(routeEntries.length + 2);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }) });
  });

  it('gives none of our functions a managed policy, and nothing a wildcard action', () => {
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      if (id.startsWith('AWSCDKTriggerCustomResourceProvider')) continue;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*$/);
      }
    }
  });
});

describe('ProvisionerStack identity', () => {

  /** The roles whose policies allow `action`, by the logical id of the role. */
  function rolesAllowed(action: string): string[] {
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => policy.Properties.PolicyDocument.Statement.some((s: { Action: string | string[] }) => [s.Action].flat().includes(action)))
      .flatMap((policy) => policy.Properties.Roles.map((r: { Ref: string }) => r.Ref))
      .sort();
  }

  /** The roles allowed `action` on the secret whose logical id starts with `secret`. */
  function rolesAllowedOn(action: string, secret: string): string[] {
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        policy.Properties.PolicyDocument.Statement.some((s: { Action: string | string[]; Resource: unknown }) => [s.Action].flat().includes(action) && JSON.stringify(s.Resource).includes(`"${secret}`)),
      )
      .flatMap((policy) => policy.Properties.Roles.map((r: { Ref: string }) => r.Ref))
      .sort();
  }

  it('lets only the signing functions (TEST signs a cluster JWT for its tests; the device login a user JWT) and the rotation read the key secret', () => {
    const readers = rolesAllowedOn('secretsmanager:GetSecretValue', 'IdentitySigningKeys');
    expect(readers).toHaveLength(5);
    expect(readers.join(' ')).toMatch(/^Apiaccess\w*Role\w* ApiloginRole\w* ApilogindevicetokenRole\w* Apitestrunner\w*Role\w* Identityrotatekeys\w*Role\w*$/);
    expect(rolesAllowed('secretsmanager:PutSecretValue').join(' ')).toMatch(/^Identityrotatekeys\w*Role\w*$/);
  });

  // notifications
  it('makes a generated webhook secret that only the notify function reads, and hands it its ARN', () => {
    const secrets = Object.entries(template.findResources('AWS::SecretsManager::Secret')).filter(([id]) => id.startsWith('NotificationsWebhookSecret'));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.[1].Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
    expect(rolesAllowedOn('secretsmanager:GetSecretValue', 'NotificationsWebhookSecret').join(' ')).toMatch(/^Schedulesnotify\w*Role\w*$/);
    expect(rolesAllowed('secretsmanager:GetSecretValue').filter((role) => !rolesAllowedOn('secretsmanager:GetSecretValue', 'IdentitySigningKeys').includes(role))).toEqual(
      rolesAllowedOn('secretsmanager:GetSecretValue', 'NotificationsWebhookSecret'),
    );
    const notify = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) => fn.Properties.Environment?.Variables?.PROVISIONER_WEBHOOK_SECRET_ARN);
    expect(notify?.Properties.Environment.Variables.PROVISIONER_WEBHOOK_SECRET_ARN).toEqual({ Ref: secrets[0]?.[0] });
  });

  it('gives authenticated functions item access only, never Scan', () => {
    const scanners = rolesAllowed('dynamodb:Scan');
    expect(scanners).toEqual([]);
    expect(rolesAllowed('dynamodb:UpdateItem').length).toBeGreaterThanOrEqual(3);
  });

  it('creates the first key at deploy and rotates monthly', () => {
    expect(Object.keys(template.findResources('Custom::Trigger'))).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(30 days)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ action: 'rotate' }) })],
    });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  it('gives every function its issuer, and only signers the secret', () => {
    for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      if (!id.startsWith('Api') || id.startsWith('Apifallback')) continue;
      const env = fn.Properties.Environment.Variables;
      expect(env.PROVISIONER_ISSUER).toBeDefined();
      expect(env.PROVISIONER_KEYS_SECRET !== undefined).toBe(/^Api(login|logindevicetoken|access|testrunner)(?![a-z])/.test(id));
    }
  });

  it('refuses to synthesize with a bad catalog, naming the field', () => {
    const path = writeCatalog({ organization: 'acme', clusters: [{ name: 'x', visibility: 'public', backend: { kind: 'local' } }] });
    expect(() => new ProvisionerStack(new App(), 'Bad', { settings: { catalogPath: path } })).toThrow(/clusters\.0\.name/);
  });
});

describe('ProvisionerStack schedules and EC2', () => {

  it('has a schedule group and a scheduler role trusted by the scheduler of this account only', () => {
    expect(Object.keys(template.findResources('AWS::Scheduler::ScheduleGroup'))).toHaveLength(1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })],
      },
    });
  });

  it('lets the scheduler role invoke only the destroy and deadline-check functions', () => {
    const invokes = statements('lambda:InvokeFunction');
    expect(invokes.every(({ roles }) => roles.every((r) => r.startsWith('SchedulesSchedulerRole')))).toBe(true);
    const targets = JSON.stringify(invokes.map(({ statement }) => statement.Resource));
    expect(targets).toMatch(/Apidestroy/);
    expect(targets).toMatch(/Schedulescheckdeadline/);
    expect(targets).not.toMatch(/Apideploy|Apilogin/);
  });

  it('passes only the scheduler role, only to the scheduler, and only from functions that create schedules', () => {
    // The workbench functions' PassRole of ECS task roles and the runner role's are checked with their areas below.
    const passes = statements('iam:PassRole').filter(({ statement }) => JSON.stringify(statement.Condition).includes('scheduler.amazonaws.com'));
    expect(passes.length).toBeGreaterThan(0);
    for (const { statement } of passes) {
      expect(JSON.stringify(statement.Resource)).toMatch(/SchedulesSchedulerRole/);
      expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    }
    expect(passes.flatMap(({ roles }) => roles).map((r) => r.replace(/Role.*$/, '')).sort()).toEqual([
      'Apideploy', 'Apidestroy', 'Apigetcluster', 'Apilistclusters', 'Apirelease', 'Apischeduledestroy', 'Apitestrunner', 'Apiworkbenchcreate', 'Apiworkbenchget', 'Apiworkbenchstart',
      'Apiworkbenchstop', 'Apiworkspacecreate', 'Apiworkspaceget', 'Apiworkspaceupdate', 'Driftinstancestate', 'Runsruncompleted', 'Schedulescheckdeadline', 'Schedulesjanitor',
      'Schedulesruntimeout', 'Schedulesworkspaceexpire',
    ]);
  });

  it('launches EC2 instances only from deploy and the run starts, tagged, and terminates only tagged ones', () => {
    // Dedicated workbench instances (launched by the workbench functions and the janitor's re-drive) are checked with the workbenches below.
    const launches = statements('ec2:RunInstances').filter(({ roles }) => !roles.every((r) => r.startsWith('Apiworkbench') || r.startsWith('Schedulesjanitor')));
    expect(new Set(launches.flatMap(({ roles }) => roles).map((r) => r.replace(/Role.*$/, '')))).toEqual(new Set(['Apideploy', 'Apitestrunner', 'Apirelease']));
    expect(launches.some(({ statement }) => JSON.stringify(statement.Condition) === JSON.stringify({ StringEquals: { 'aws:RequestTag/provisioner:managed': 'Provisioner' } }))).toBe(true);
    for (const { statement } of statements('ec2:TerminateInstances')) {
      expect(statement.Condition).toMatchObject({ StringEquals: { 'aws:ResourceTag/provisioner:managed': 'Provisioner' } });
    }
  });

  it('sends EC2 instances stopping or terminating to the instance-state function only, which may read instances but not change them', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) => rule.Properties.EventPattern !== undefined);
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.EventPattern).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] },
    });
    expect(rules[0]?.Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(rules[0]?.Properties.Targets)).toMatch(/Driftinstancestate/);
    const invokers = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) => JSON.stringify(p.Properties.FunctionName).includes('Driftinstancestate'));
    expect(invokers.map((p) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
    for (const action of ['ec2:TerminateInstances', 'ec2:RunInstances']) {
      expect(statements(action).flatMap(({ roles }) => roles).filter((r) => r.startsWith('Driftinstancestate'))).toEqual([]);
    }
    // notifications: its only schedules are notify calls (a cluster it degrades is told to the webhooks).
    expect(operationAccess['instance-state'].schedules).toEqual({ creates: ['notify'] });
  });

  it('lets launches resolve only the AMI parameters the catalog names, cdk-nag clean', () => {
    const path = writeCatalog({
      organization: 'acme',
      clusters: [{ name: 'ec2-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', version: { kind: 'ami_parameter', name: '/sliderule/ami/{version}' } } }],
    });
    // Skipping bundling: only the policies matter here.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new ProvisionerStack(app, 'Ami', { settings: { catalogPath: path } });
    app.synth();
    const resolves = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[])
        .filter((st) => [st.Action].flat().includes('ssm:GetParameters'))
        .map((st) => ({ roles: policy.Properties.Roles.map((r: { Ref: string }) => r.Ref.replace(/Role.*$/, '')), resource: JSON.stringify(st.Resource) })),
    );
    expect(resolves.flatMap(({ roles }) => roles).sort()).toEqual(['Apideploy']);
    expect(resolves[0]?.resource).toContain(':parameter/sliderule/ami/*');
  });

  it('lets only deploy pass the instance roles the catalog names for its launch templates, only to EC2, cdk-nag clean', () => {
    const path = writeCatalog({
      organization: 'acme',
      clusters: [
        { name: 'ec2-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', instance_roles: ['sliderule-node'] } },
        { name: 'ec2-gpu', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345679', instance_roles: ['gpu/sliderule-gpu', 'sliderule-node'] } },
      ],
    });
    // Skipping bundling: only the policies matter here.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new ProvisionerStack(app, 'Roles', { settings: { catalogPath: path } });
    app.synth();
    const ec2Passes = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[])
        .filter((st) => [st.Action].flat().includes('iam:PassRole') && JSON.stringify(st.Condition).includes('ec2.amazonaws.com') && !JSON.stringify(st.Resource).includes('RunsRunnerRole'))
        .map((st) => ({ roles: policy.Properties.Roles.map((r: { Ref: string }) => r.Ref.replace(/Role.*$/, '')), statement: st })),
    );
    expect(ec2Passes.flatMap(({ roles }) => roles)).toEqual(['Apideploy']);
    const role = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/${name}`]] });
    expect(ec2Passes[0]?.statement).toEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [role('sliderule-node'), role('gpu/sliderule-gpu')],
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  });

  it('refuses an instance role that is not an IAM role name', () => {
    const path = writeCatalog({
      organization: 'acme',
      clusters: [{ name: 'ec2-dev', visibility: 'private', backend: { kind: 'ec2', launch_template: 'lt-0abc12345678', instance_roles: ['*'] } }],
    });
    expect(() => new ProvisionerStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'BadRole', { settings: { catalogPath: path } })).toThrow(/clusters\.0\.backend\.instance_roles\.0/);
  });

  it('tells each function the schedule targets it needs, and the destroy function not its own', () => {
    const env = (prefix: string) => {
      const found = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix));
      return found?.[1].Properties.Environment.Variables ?? {};
    };
    expect(env('Apideploy')).toMatchObject({ PROVISIONER_TARGET_DESTROY_ARN: expect.anything(), PROVISIONER_TARGET_CHECK_DEADLINE_ARN: expect.anything() });
    expect(env('Apidestroy').PROVISIONER_TARGET_DESTROY_ARN).toBeUndefined();
    expect(env('Apidestroy').PROVISIONER_TARGET_CHECK_DEADLINE_ARN).toBeDefined();
    expect(env('Schedulescheckdeadline').PROVISIONER_SCHEDULE_GROUP).toBeDefined();
  });
});

describe('ProvisionerStack access table', () => {

  /** Our functions by name (their handler folder), with logical id, role and environment. */
  const functionsByName = () =>
    new Map(
      Object.entries(template.findResources('AWS::Lambda::Function'))
        .filter(([, fn]) => fn.Properties.Handler === 'index.handler')
        .map(([id, fn]) => {
          const env = fn.Properties.Environment.Variables as Record<string, unknown>;
          return [String(env.PROVISIONER_OPERATION), { id, role: fn.Properties.Role['Fn::GetAtt'][0] as string, env }] as const;
        }),
    );
  /** The run completion's access is granted by lib/runs.ts, the same as this entry would. */
  const runCompletedAccess: OperationAccess = { table: ['GetItem', 'UpdateItem', 'PutItem'], schedules: { creates: ['notify'] }, runs: 'stop' };
  const accessOf = (name: string): OperationAccess =>
    (operationAccess as Record<string, OperationAccess | undefined>)[name] ?? (name === 'run-completed' ? runCompletedAccess : {});
  const createsOf = (access: OperationAccess): readonly ScheduleTarget[] => (access.schedules && 'creates' in access.schedules ? access.schedules.creates : []);

  /** The actions each field stands for, written out here independently of the grant code. */
  /** Functions run by the Scheduler, a rule or S3 notifications (asynchronous invocations) may put a failed event in the dead-letter queue. */
  const invokedAsync = new Set<string>([...scheduleTargetNames.map((target) => scheduleTargets[target].lambda), 'instance-state', 'run-completed']);
  function expectedActions(access: OperationAccess, name: string): string[] {
    const ec2 = { read: ['ec2:DescribeInstances'], manage: ['ec2:DescribeInstances', 'ec2:TerminateInstances'], launch: ['ec2:DescribeInstances', 'ec2:TerminateInstances', 'ec2:RunInstances', 'ec2:CreateTags'] };
    const workspaces = {
      read: ['ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks'],
      manage: ['ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks', 'ecs:DeleteService', 'ecs:TagResource', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'],
      launch: ['ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks', 'ecs:DeleteService', 'ecs:TagResource', 'ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition', 'ecs:CreateService', 'ecs:RegisterTaskDefinition'],
    };
    // With the example catalog's dedicated launch template.
    const workbenchRead = ['ecs:ListTasks', 'ecs:DescribeTasks', 'ec2:DescribeInstances'];
    const workbenchManage = [...workbenchRead, 'ecs:StopTask', 'ec2:StopInstances', 'ec2:TerminateInstances'];
    const workbenchActions = {
      read: workbenchRead,
      manage: workbenchManage,
      launch: [...workbenchManage, 'ecs:RunTask', 'ecs:TagResource', 'iam:PassRole', 'ec2:StartInstances', 'ec2:RunInstances', 'ec2:CreateTags', 'ecs:ListContainerInstances', 'ecs:StartTask'],
    };
    const runs = {
      read: ['s3:GetObject'],
      stop: ['s3:GetObject', 'ec2:DescribeInstances', 'ec2:TerminateInstances', 'ssm:DeleteParameter'],
      start: [
        's3:GetObject', 'ec2:DescribeInstances', 'ec2:TerminateInstances', 'ssm:DeleteParameter',
        'ec2:RunInstances', 'ec2:CreateTags', 'ec2:DescribeImages', 'iam:PassRole', 'ssm:GetParameter', 'ssm:PutParameter', 'ssm:AddTagsToResource',
      ],
    };
    const schedules = !access.schedules ? [] : 'creates' in access.schedules ? ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole'] : ['scheduler:DeleteSchedule'];
    return [
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      ...(access.table ?? []).map((action) => `dynamodb:${action}`),
      ...(access.signs || access.webhookSecret ? ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] : []),
      ...schedules,
      ...(access.ec2 ? ec2[access.ec2] : []),
      ...(access.workspaces ? workspaces[access.workspaces] : []),
      ...(access.workbenches ? workbenchActions[access.workbenches] : []),
      ...(access.runs ? runs[access.runs] : []),
      ...(invokedAsync.has(name) ? ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] : []),
    ].filter((action, i, all) => all.indexOf(action) === i).sort();
  }

  const actionsOf = (role: string): string[] =>
    [
      ...new Set(
        Object.values(template.findResources('AWS::IAM::Policy'))
          .filter((policy) => policy.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
          .flatMap((policy) => (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((s) => [s.Action].flat())),
      ),
    ].sort();

  it('has an entry for every function but the key rotation and the run completion (which their constructs own)', () => {
    expect(Object.keys(operationAccess).sort()).toEqual([...functionsByName().keys()].filter((name) => name !== 'rotate-keys' && name !== 'run-completed').sort());
  });

  it('gives each function exactly the actions its entry names, so only an ec2 launch entry may RunInstances', () => {
    for (const [name, access] of [...Object.entries(operationAccess), ['run-completed', runCompletedAccess] as const]) {
      const fn = functionsByName().get(name);
      expect({ name, actions: fn && actionsOf(fn.role) }).toEqual({ name, actions: expectedActions(access, name) });
    }
  });

  it('lets the scheduler role invoke every schedule target\'s function, and nothing else', () => {
    const functions = functionsByName();
    const invokes = statements('lambda:InvokeFunction');
    expect(new Set(invokes.flatMap(({ roles }) => roles))).toEqual(new Set([expect.stringMatching(/^SchedulesSchedulerRole/)]));
    const invokedIds = invokes.flatMap(({ statement }) => [...JSON.stringify(statement.Resource).matchAll(/"Fn::GetAtt":\["(\w+)","Arn"\]/g)].map((m) => m[1]));
    const invoked = new Set([...functions].filter(([, fn]) => invokedIds.includes(fn.id)).map(([name]) => name));
    expect(invoked).toEqual(new Set(scheduleTargetNames.map((target) => scheduleTargets[target].lambda)));
  });

  it('hands a target\'s ARN to exactly the functions whose entry creates it, and the scheduler settings to those with schedules', () => {
    const functions = functionsByName();
    for (const [name, { env }] of functions) {
      const access = accessOf(name);
      for (const target of scheduleTargetNames) {
        const targetId = functions.get(scheduleTargets[target].lambda)?.id;
        const expected = createsOf(access).includes(target) ? { 'Fn::GetAtt': [targetId, 'Arn'] } : undefined;
        expect({ name, target, arn: env[targetArnVariable(target)] }).toEqual({ name, target, arn: expected });
      }
      expect({ name, group: env.PROVISIONER_SCHEDULE_GROUP !== undefined }).toEqual({ name, group: access.schedules !== undefined });
    }
  });

  it("requires this stack's name in every IAM condition on the managed tag, and hands it to every function that tags, reads or sweeps tagged resources", () => {
    const conditions = managedTagConditions(template);
    expect(new Set(conditions.flatMap(({ actions }) => actions))).toEqual(
      new Set(['ec2:TerminateInstances', 'ec2:RunInstances', 'ec2:StopInstances', 'ec2:StartInstances', 'ecs:DeleteService', 'ecs:TagResource', 'ecs:CreateService', 'ecs:RegisterTaskDefinition']),
    );
    for (const condition of conditions) expect(condition).toEqual({ actions: condition.actions, value: 'Provisioner' });
    for (const [name, { env }] of functionsByName()) {
      const access = accessOf(name);
      const touchesTagged = Boolean(access.ec2 || access.workspaces || access.workbenches || access.runs === 'stop' || access.runs === 'start');
      expect({ name, managed: env.PROVISIONER_MANAGED_TAG }).toEqual({ name, managed: touchesTagged ? 'Provisioner' : undefined });
    }
  });

  it('gives two stacks of one app different managed tags and run log buckets, and cdk-nag passes both', () => {
    // Skipping bundling: only the templates matter here.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const prod = new ProvisionerStack(app, 'Provisioner');
    const staging = new ProvisionerStack(app, 'Staging', { stackName: 'provisioner-staging' });
    const valuesOf = (stack: Stack) => {
      const of = Template.fromStack(stack);
      const environments = Object.values(of.findResources('AWS::Lambda::Function')).flatMap((fn) => fn.Properties.Environment?.Variables?.PROVISIONER_MANAGED_TAG ?? []);
      expect(environments.length).toBeGreaterThan(0);
      return new Set([...managedTagConditions(of).map(({ value }) => value), ...environments]);
    };
    expect(valuesOf(prod)).toEqual(new Set(['Provisioner']));
    expect(valuesOf(staging)).toEqual(new Set(['provisioner-staging']));
    // Each has its own run log bucket: named after its stack's id, which CloudFormation makes unique.
    const bucketOf = (stack: Stack) => JSON.stringify(Object.values(Template.fromStack(stack).findResources('AWS::S3::Bucket')).map((bucket) => bucket.Properties.BucketName));
    const byStackId = JSON.stringify([{ 'Fn::Join': ['', ['provisioner-runs-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]] }]);
    expect(bucketOf(prod)).toBe(byStackId);
    expect(bucketOf(staging)).toBe(byStackId);
    // Every acknowledgement of the staging stack names its own bucket: nothing left unacknowledged.
    expect(() => app.synth()).not.toThrow();
  });

  it('refuses to give a target\'s function its own ARN (a cycle CloudFormation would reject)', () => {
    // Skipping bundling: only the construct tree matters here.
    const stack = new ProvisionerStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Cycle');
    expect(() => stack.schedules.grantCreate(stack.schedules.targetFunction('destroy'), ['destroy'])).toThrow(/cannot create schedules of it/);
  });
});

/** Issue 21.14: what a failure in AWS leaves for an operator to see. */
describe('ProvisionerStack operations', () => {
  const queueArn = () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(1);
    return { 'Fn::GetAtt': [queues[0], 'Arn'] };
  };

  it('keeps dead letters in one encrypted, TLS-only queue for 14 days, and alarms as soon as one arrives', () => {
    const [id] = Object.keys(template.findResources('AWS::SQS::Queue'));
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('retries and dead-letters every standing schedule and every rule target', () => {
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules.length).toBeGreaterThan(0);
    for (const schedule of schedules) {
      expect(schedule.Properties.Target).toMatchObject({ RetryPolicy: { MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) }, DeadLetterConfig: { Arn: queueArn() } });
    }
    const targets = Object.values(template.findResources('AWS::Events::Rule')).flatMap((rule) => rule.Properties.Targets as Record<string, unknown>[]);
    expect(targets.length).toBeGreaterThanOrEqual(2);
    for (const target of targets) {
      expect(target).toMatchObject({ RetryPolicy: { MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) }, DeadLetterConfig: { Arn: queueArn() } });
    }
  });

  it('hands the queue to every function that makes schedules, and lets the scheduler role send to it', () => {
    for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      const env = fn.Properties.Environment?.Variables ?? {};
      if (env.PROVISIONER_SCHEDULE_GROUP === undefined) continue;
      expect({ id, deadLetters: env.PROVISIONER_DEAD_LETTER_ARN }).toEqual({ id, deadLetters: queueArn() });
    }
    const sends = statements('sqs:SendMessage').filter(({ roles }) => roles.some((r) => r.startsWith('SchedulesSchedulerRole')));
    expect(sends.map(({ statement }) => statement.Resource)).toEqual([queueArn()]);
  });

  it('sends every asynchronous invocation that fails for good (schedule targets, rule targets, S3 notifications) to the queue', () => {
    const functionId = (reference: unknown) => JSON.stringify(reference).match(/"(?:Ref|Fn::GetAtt)":\[?"(\w+)"/)?.[1];
    const scheduled = statements('lambda:InvokeFunction').flatMap(({ statement }) => [...JSON.stringify(statement.Resource).matchAll(/"Fn::GetAtt":\["(\w+)","Arn"\]/g)].map((m) => m[1]));
    const notified = Object.values(template.findResources('AWS::Lambda::Permission'))
      .filter((permission) => ['events.amazonaws.com', 's3.amazonaws.com'].includes(permission.Properties.Principal))
      .map((permission) => functionId(permission.Properties.FunctionName));
    const invokedAsync = new Set([...scheduled, ...notified]);
    expect(invokedAsync.size).toBeGreaterThanOrEqual(scheduleTargetNames.length);
    const configs = new Map(Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).map((config) => [functionId(config.Properties.FunctionName), config.Properties]));
    for (const id of invokedAsync) {
      expect({ id, config: configs.get(id) }).toEqual({ id, config: expect.objectContaining({ MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: queueArn() } } }) });
    }
  });

  it('throttles the API stage by default, and as the settings say', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 } });
    // Skipping bundling: only the stage matters here.
    const stack = new ProvisionerStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Throttled', { settings: { apiThrottleRate: 7, apiThrottleBurst: 9 } });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 } });
  });

  it('alarms on the 5xx rate, stuck items, throttles and the dead-letter queue, all notifying one encrypted topic with no subscription unless asked', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties);
    const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(alarms.map((alarm) => alarm.AlarmActions)).toEqual(alarms.map(() => [{ Ref: topics[0] }]));
    const byMetric = (name: string) => alarms.find((alarm) => alarm.MetricName === name || JSON.stringify(alarm.Metrics ?? []).includes(`"MetricName":"${name}"`));
    expect(byMetric('ServerErrors')).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
    expect(JSON.stringify(byMetric('ServerErrors')?.Metrics)).toContain('IF(requests >= 20, 100 * errors / requests, 0)');
    expect(byMetric('StuckItems')).toMatchObject({ Namespace: 'Provisioner', Threshold: 0, Statistic: 'Maximum', ComparisonOperator: 'GreaterThanThreshold' });
    expect(byMetric('Throttles')).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 0 });
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toMatchObject({ Threshold: 1 });
  });

  it('subscribes the e-mail address the settings name, or uses the topic they name instead of its own', () => {
    const mailed = Template.fromStack(new ProvisionerStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Mailed', { settings: { alarmEmail: 'ops@example.com' } }));
    mailed.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const topic = 'arn:aws:sns:us-east-1:123456789012:provisioner-operators';
    const named = Template.fromStack(new ProvisionerStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Named', { settings: { alarmTopicArn: topic } }));
    named.resourceCountIs('AWS::SNS::Topic', 0);
    const actions = Object.values(named.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.AlarmActions);
    expect(actions.length).toBeGreaterThanOrEqual(4);
    expect(new Set(actions.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify([topic])]));
  });
});

describe('the cdk-nag check itself', () => {
  it('fails synthesis on a finding nobody acknowledged', () => {
    const app = checkedApp();
    const stack = new Stack(app, 'Careless');
    new Table(stack, 'NoRecovery', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    expect(() => app.synth()).toThrow(/AwsSolutions-DDB3/);
  });
});

describe('each function\'s environment', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const taskRoot = mkdtempSync(join(tmpdir(), 'task-root-'));
  copyFileSync(shippedCatalogFile(join(root, 'catalog/example.json')), join(taskRoot, 'catalog.json'));

  /** CloudFormation values (Ref, GetAtt, Join) become plausible literals of the kind the code checks. */
  function literalEnv(variables: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [
        name,
        typeof value === 'string' ? value : /ISSUER|URL/.test(name) ? 'https://api.example.com' : 'arn:aws:lambda:us-east-1:123456789012:function:placeholder',
      ]),
    );
  }

  /** Builds every provider of a function's handler module in a fresh process with exactly that environment. */
  function buildProviders(operation: string, env: Record<string, string>): Promise<string[]> {
    const entry = pathToFileURL(join(root, 'lambdas', operation, 'index.ts')).href;
    const script = [
      `const m = await import(${JSON.stringify(entry)});`,
      'const failures = [];',
      'for (const [name, provide] of Object.entries(m.providers)) { try { await provide(); } catch (e) { failures.push(`${name}: ${e.message}`); } }',
      'console.log(JSON.stringify(failures));',
    ].join('\n');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_REGION: 'us-east-1', LAMBDA_TASK_ROOT: taskRoot, PROVISIONER_LOG_LEVEL: 'SILENT', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (code === 0 && last.startsWith('[')) resolve(JSON.parse(last) as string[]);
        else reject(new Error(`${operation} did not load (${code}): ${stderr.slice(-2000)}`));
      });
    });
  }

  const functions = () =>
    Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((fn) => fn.Properties.Handler === 'index.handler')
      .map((fn) => literalEnv(fn.Properties.Environment.Variables as Record<string, unknown>));

  it('gives every function what its providers read, so none fails its cold start on a missing setting', async () => {
    const all = functions();
    const targetOnly = Object.values(scheduleTargets).map((t) => t.lambda).filter((lambda) => !routeEntries.some(([operation]) => operation === lambda));
    expect(all.map((env) => env.PROVISIONER_OPERATION).sort()).toEqual([...routeEntries.map(([operation]) => operation), ...new Set(targetOnly), 'fallback', 'rotate-keys', 'run-completed', 'instance-state'].sort());
    const failures: string[] = [];
    // Two at a time: each loads the handler's whole module graph.
    for (let i = 0; i < all.length; i += 2) {
      const batch = all.slice(i, i + 2);
      const results = await Promise.all(batch.map((env) => buildProviders(env.PROVISIONER_OPERATION ?? '', env)));
      results.forEach((result, j) => failures.push(...result.map((f) => `${batch[j]?.PROVISIONER_OPERATION}: ${f}`)));
    }
    expect(failures).toEqual([]);
    // Each of ~25 functions loads its module graph in a process of its own.
  }, 300_000);

  it('notices a missing setting (the check above can fail)', async () => {
    const deploy = functions().find((env) => env.PROVISIONER_OPERATION === 'deploy') ?? {};
    const { PROVISIONER_SCHEDULER_ROLE_ARN: _removed, ...without } = deploy;
    expect(await buildProviders('deploy', without)).toEqual([expect.stringContaining('PROVISIONER_SCHEDULER_ROLE_ARN is not set')]);
  });
});

describe('ProvisionerStack workspaces', () => {
  it('has one workspace cluster, with container insights', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  it('scopes every ECS action of the workspace functions to the workspace cluster but RegisterTaskDefinition, which must carry our tag', () => {
    const workspaceFunctions = (policy: { [key: string]: any }) => (policy.Properties.Roles as { Ref: string }[]).some((r) => /workspace/i.test(r.Ref));
    const ecsStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter(workspaceFunctions)
      .flatMap((policy) => (policy.Properties.PolicyDocument.Statement as Statement[]).filter((s) => [s.Action].flat().some((a) => a.startsWith('ecs:'))));
    expect(ecsStatements.length).toBeGreaterThan(0);
    for (const statement of ecsStatements) {
      if ([statement.Action].flat().includes('ecs:RegisterTaskDefinition')) {
        expect(statement.Condition).toEqual({ StringEquals: { 'aws:RequestTag/provisioner:managed': 'Provisioner' } });
        continue;
      }
      // Neither has resource-level permissions (a deleted workspace's task definitions are deregistered).
      if ([statement.Action].flat().includes('ecs:DeregisterTaskDefinition')) {
        expect([[statement.Action].flat(), statement.Resource]).toEqual([['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'], '*']);
        continue;
      }
      expect(JSON.stringify(statement.Resource)).toMatch(/WorkspacesCluster|task-definition\/provisioner-workspace-/);
    }
    const launchers = statements('ecs:CreateService').flatMap(({ roles }) => roles).map((r) => r.replace(/Role.*$/, ''));
    expect(new Set(launchers)).toEqual(new Set(['Apiworkspacecreate']));
  });

  it('lets the scheduler role invoke the workspace expiry function, which deletes schedules and makes only notify calls', () => {
    const targets = JSON.stringify(statements('lambda:InvokeFunction').map(({ statement }) => statement.Resource));
    expect(targets).toMatch(/Schedulesworkspaceexpire/);
    expect(targets).not.toMatch(/Apiworkspace/);
    expect(operationAccess['workspace-expire'].schedules).toEqual({ creates: ['notify'] });
  });
});

// workbenches
describe('ProvisionerStack workbenches', () => {
  const cluster = 'arn:aws:ecs:us-east-1:123456789012:cluster/workbenches';
  const rolesOf = (action: string) => new Set(statements(action).flatMap(({ roles }) => roles).map((r) => r.replace(/Role.*$/, '')));

  it('runs tasks only of the workbench family, only in the workbench cluster, only from create, start, delete, get and the janitor (re-drives)', () => {
    expect(rolesOf('ecs:RunTask')).toEqual(new Set(['Apiworkbenchcreate', 'Apiworkbenchstart', 'Apiworkbenchdelete', 'Apiworkbenchget', 'Schedulesjanitor']));
    for (const { statement } of statements('ecs:RunTask')) {
      expect(statement.Resource).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/workbench:*');
      expect(statement.Condition).toEqual({ ArnEquals: { 'ecs:cluster': cluster } });
    }
  });

  it('stops and describes tasks only in the workbench cluster', () => {
    for (const action of ['ecs:StopTask', 'ecs:DescribeTasks']) {
      for (const { statement } of statements(action).filter(({ roles }) => roles.some((r) => /workbench/i.test(r)))) {
        expect(statement.Resource).toBe('arn:aws:ecs:us-east-1:123456789012:task/workbenches/*');
        expect(statement.Condition).toEqual({ ArnEquals: { 'ecs:cluster': cluster } });
      }
    }
    expect(rolesOf('ecs:StopTask')).toEqual(new Set(['Apiworkbenchcreate', 'Apiworkbenchstart', 'Apiworkbenchdelete', 'Apiworkbenchget', 'Apiworkbenchstop', 'Schedulesjanitor']));
  });

  it('passes only the task roles, only to ECS tasks', () => {
    const ecsPasses = statements('iam:PassRole').filter(({ statement }) => JSON.stringify(statement.Condition).includes('ecs-tasks'));
    expect(ecsPasses.length).toBe(5);
    for (const { statement } of ecsPasses) {
      expect(statement.Resource).toEqual(['arn:aws:iam::123456789012:role/workbench-task', 'arn:aws:iam::123456789012:role/workbench-execution']);
      expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    }
  });

  it('starts, stops and terminates only instances tagged as ours, and launches them only tagged', () => {
    for (const action of ['ec2:StartInstances', 'ec2:StopInstances']) {
      for (const { statement } of statements(action)) expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/provisioner:managed': 'Provisioner' } });
    }
    const workbenchLaunches = statements('ec2:RunInstances').filter(({ roles }) => roles.every((r) => r.startsWith('Apiworkbench')));
    expect(workbenchLaunches.some(({ statement }) => JSON.stringify(statement.Condition) === JSON.stringify({ StringEquals: { 'aws:RequestTag/provisioner:managed': 'Provisioner' } }))).toBe(true);
  });
});

describe('ProvisionerStack runs', () => {
  it('keeps run logs in an encrypted, private, TLS-only bucket that expires them', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 90, Status: 'Enabled' })] },
      NotificationConfiguration: {
        LambdaConfigurations: [
          Match.objectLike({ Event: 's3:ObjectCreated:*', Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'runs/' }, { Name: 'suffix', Value: '/result.json' }] } } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  it('lets each run instance put objects only under runs/<id>/<its own aws:userid>/, and passes their role only to EC2', () => {
    const puts = statements('s3:PutObject');
    expect(puts.map(({ roles }) => roles.map((r) => r.replace(/[0-9A-F]{8}$/, '')))).toEqual([['RunsRunnerRole']]);
    // The IAM policy variable reaches the policy as written (not a CloudFormation substitution).
    expect(puts[0]?.statement).toEqual({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::provisioner-runs-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }, '/runs/*/${aws:userid}/*']],
      },
    });
    // The functions that launch or stop runs know the role's id: the first half of an instance's aws:userid.
    const launchers = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => /^Api(testrunner|release|cancelrun)|^Runsruncompleted/.test(id));
    expect(launchers).toHaveLength(4);
    for (const [, fn] of launchers) expect(fn.Properties.Environment.Variables.PROVISIONER_RUN_ROLE_ID).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RunsRunnerRole/), 'RoleId'] });
    const runnerPasses = statements('iam:PassRole').filter(({ statement }) => JSON.stringify(statement.Resource).includes('RunsRunnerRole'));
    expect(runnerPasses.length).toBe(2);
    for (const { statement } of runnerPasses) expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  });

  it('launches and terminates run instances only with the run tag', () => {
    const runLaunch = statements('ec2:RunInstances').filter(({ roles }) => roles.some((r) => r.startsWith('Apitestrunner') || r.startsWith('Apirelease')));
    expect(runLaunch.some(({ statement }) => JSON.stringify(statement.Condition) === JSON.stringify({ StringEquals: { 'aws:RequestTag/provisioner:managed': 'Provisioner' }, StringLike: { 'aws:RequestTag/provisioner:run': '?*' } }))).toBe(true);
    const runTerminate = statements('ec2:TerminateInstances').filter(({ roles }) => roles.some((r) => r.startsWith('Apicancelrun') || r.startsWith('Runsruncompleted')));
    expect(runTerminate.length).toBe(2);
    for (const { statement } of runTerminate) expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/provisioner:managed': 'Provisioner' }, StringLike: { 'aws:ResourceTag/provisioner:run': '?*' } });
  });
});
