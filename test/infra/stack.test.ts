import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routeEntries, routeKey } from '../../src/api/routes.js';
import { tableSchema } from '../../src/store/table.js';
import { ProvisionerStack } from '../../lib/provisioner-stack.js';

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

  it('has one function per route plus the fallback, all nodejs22.x on arm64', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(routeEntries.length + 1);
    for (const fn of Object.values(functions)) {
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

  it('gives no function a managed policy or a wildcard action', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*$/);
      }
    }
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
