import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import { ProvisionerStack, type ProvisionerSettings } from '../../lib/provisioner-stack.js';
import { writeCatalog } from '../support/local-api.js';

/**
 * Issue 21: what runs need from the stack in a real account, read from the synthesized template
 * (bundling skipped: only the resources and policies matter; cdk-nag still checks every finding).
 */
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

function synth(id: string, settings: ProvisionerSettings = {}): { stack: Stack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new ProvisionerStack(app, id, { settings });
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

/** Every policy statement allowing `action`, with the logical ids of its roles. */
const allowing = (template: Template, action: string) =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => [s.Action].flat().includes(action))
      .map((statement) => ({ roles: (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref), statement, resources: JSON.stringify(statement.Resource) })),
  );

/** The environment of the functions whose logical id starts with `name`. */
const environmentOf = (template: Template, name: string): Record<string, unknown> => {
  const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith(name)).map(([, fn]) => fn);
  return fn?.Properties.Environment?.Variables ?? {};
};

describe('runs in the stack', () => {
  let template: Template;
  let runnerRole: string;
  beforeAll(() => {
    ({ template } = synth('Provisioner'));
    runnerRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('RunsRunnerRole')) ?? '';
  });

  it('a spot launch may create its spot request, tagged like its instance (21.1)', () => {
    const runs = allowing(template, 'ec2:RunInstances').filter(({ resources }) => resources.includes(':spot-instances-request/*'));
    expect(runs).not.toHaveLength(0);
    for (const { statement } of runs) {
      // The request carries the run and managed tags, as the instance and its volume do.
      expect(Object.keys(statement.Condition?.StringEquals ?? {})).toContain('aws:RequestTag/provisioner:managed');
      expect(Object.keys(statement.Condition?.StringLike ?? {})).toContain('aws:RequestTag/provisioner:run');
    }
    expect(allowing(template, 'ec2:CreateTags').some(({ resources }) => resources.includes(':spot-instances-request/*'))).toBe(true);
  });

  it('creates the EC2 Spot service-linked role by default, and not when the account has it (21.1)', () => {
    template.hasResourceProperties('AWS::IAM::ServiceLinkedRole', { AWSServiceName: 'spot.amazonaws.com' });
    const { template: without } = synth('NoSpotRole', { spotServiceLinkedRole: false });
    without.resourceCountIs('AWS::IAM::ServiceLinkedRole', 0);
  });

  it('the runner reads and deletes a run secret only when it is tagged with its own instance ARN (21.7)', () => {
    const reads = [...allowing(template, 'ssm:GetParameter'), ...allowing(template, 'ssm:DeleteParameter')].filter(({ roles }) => roles.includes(runnerRole));
    expect(reads.length).toBeGreaterThan(0);
    for (const { statement, resources } of reads) {
      expect(resources).toContain(':parameter/Provisioner/runs/*');
      expect(statement.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/provisioner:instance': '${ec2:SourceInstanceARN}' } });
    }
    // Nothing else of SSM, S3 beyond its own prefix, or anything else.
    const runnerActions = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === runnerRole))
      .flatMap((policy) => (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((s) => [s.Action].flat()));
    expect(runnerActions.sort()).toEqual(['s3:PutObject', 'ssm:DeleteParameter', 'ssm:GetParameter']);
  });

  it('the functions that start runs store the secret, those that stop them delete it, under this stack\'s prefix (21.7)', () => {
    const puts = allowing(template, 'ssm:PutParameter');
    expect(puts.flatMap(({ roles }) => roles.map((r) => r.replace(/Role.*$/, ''))).sort()).toEqual(['Apirelease', 'Apitestrunner']);
    for (const { resources } of puts) expect(resources).toContain(':parameter/Provisioner/runs/*');
    expect(environmentOf(template, 'Apitestrunner').PROVISIONER_RUN_SECRET_PREFIX).toBe('/Provisioner/runs/');
    expect(environmentOf(template, 'Schedulesjanitor').PROVISIONER_RUN_SECRET_PREFIX).toBe('/Provisioner/runs/');
  });

  it('runner subnets and security group are stack settings, handed to the functions that launch (21.9)', () => {
    expect(environmentOf(template, 'Apitestrunner').PROVISIONER_RUN_SUBNET).toBeUndefined();
    const { template: placed } = synth('Placed', { runSubnets: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff6677889900'], runSecurityGroup: 'sg-0123456789abcdef0' });
    expect(environmentOf(placed, 'Apitestrunner')).toMatchObject({ PROVISIONER_RUN_SUBNET: 'subnet-0aa11bb22cc33dd44,subnet-0ee55ff6677889900', PROVISIONER_RUN_SECURITY_GROUP: 'sg-0123456789abcdef0' });
  });

  it('the log bucket\'s name is new with each stack created (its id), never fixed: a stack re-created beside its retained bucket deploys (21.14)', () => {
    const stackUuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets.map((bucket) => bucket.Properties.BucketName)).toEqual([{ 'Fn::Join': ['', ['provisioner-runs-', stackUuid]] }]);
    template.hasOutput('RunLogBucket', {});
  });

  it('run instances may push only to the ECR repositories the catalog names, and to none by default (21.16)', () => {
    expect(allowing(template, 'ecr:PutImage')).toEqual([]);
    const example = JSON.parse(readFileSync(new URL('../../catalog/example.json', import.meta.url), 'utf8'));
    const catalogPath = writeCatalog({ ...example, runs: { ...example.runs, push_repositories: ['sliderule/cluster'] } });
    const { template: pushing } = synth('Pushing', { catalogPath });
    const pushes = allowing(pushing, 'ecr:PutImage');
    expect(pushes.map(({ roles }) => roles.map((r) => r.replace(/[0-9A-F]{8}$/, '')))).toEqual([['RunsRunnerRole']]);
    expect(pushes[0]?.statement.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':repository/sliderule/cluster']],
    });
  });

  it('a plan whose script outgrows EC2 user data (16 KB) fails the synth, naming it (21.11)', () => {
    const example = JSON.parse(readFileSync(new URL('../../catalog/example.json', import.meta.url), 'utf8'));
    const huge = { kind: 'release', repository: 'https://github.com/acme/huge.git', steps: Array.from({ length: 5 }, (_, i) => ({ name: `step-${i}`, run: `echo ${'x'.repeat(3990)}` })) };
    const catalogPath = writeCatalog({ ...example, runs: { ...example.runs, plans: { ...example.runs.plans, 'huge-release': huge } } });
    expect(() => synth('Huge', { catalogPath })).toThrow(/huge-release.*16 KB/);
  });
});
