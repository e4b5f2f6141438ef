import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routeEntries, routeKey } from '../../src/api/routes.js';
import { tableSchema } from '../../src/store/table.js';
import { ProvisionerStack } from '../../lib/provisioner-stack.js';
import { writeCatalog } from '../support/local-api.js';

function checkedApp(): App {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

describe('ProvisionerStack', () => {
  let template: Template;

  beforeAll(() => {
    const app = checkedApp();
    const stack = new ProvisionerStack(app, 'Provisioner');
    // Synthesis runs cdk-nag's AwsSolutions pack and throws on any unacknowledged finding.
    app.synth();
    template = Template.fromStack(stack);
  });

  /** Our functions; CDK's own trigger provider is not one of them. */
  const ours = () => Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, fn]) => fn.Properties.Handler === 'index.handler');

  it('has one function per route plus the fallback and the key rotation, all nodejs22.x on arm64', () => {
    const functions = ours();
    expect(functions).toHaveLength(routeEntries.length + 2);
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

  it('builds the table from the one schema: keys, index, TTL, PITR, on demand, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
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
  let template: Template;
  beforeAll(() => {
    const app = checkedApp();
    const stack = new ProvisionerStack(app, 'Provisioner');
    app.synth();
    template = Template.fromStack(stack);
  });

  /** The roles whose policies allow `action`, by the logical id of the role. */
  function rolesAllowed(action: string): string[] {
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => policy.Properties.PolicyDocument.Statement.some((s: { Action: string | string[] }) => [s.Action].flat().includes(action)))
      .flatMap((policy) => policy.Properties.Roles.map((r: { Ref: string }) => r.Ref))
      .sort();
  }

  it('lets only the signing functions and the rotation read the key secret', () => {
    const readers = rolesAllowed('secretsmanager:GetSecretValue');
    expect(readers).toHaveLength(3);
    expect(readers.join(' ')).toMatch(/^Apiaccess\w*Role\w* Apilogin\w*Role\w* Identityrotatekeys\w*Role\w*$/);
    expect(rolesAllowed('secretsmanager:PutSecretValue').join(' ')).toMatch(/^Identityrotatekeys\w*Role\w*$/);
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
      expect(env.PROVISIONER_KEYS_SECRET !== undefined).toBe(/^Api(login|access)/.test(id));
    }
  });

  it('refuses to synthesize with a bad catalog, naming the field', () => {
    const path = writeCatalog({ organization: 'acme', clusters: [{ name: 'x', visibility: 'public', backend: { kind: 'local' } }] });
    expect(() => new ProvisionerStack(new App(), 'Bad', { settings: { catalogPath: path } })).toThrow(/clusters\.0\.name/);
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
