import { Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Trigger } from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { DeadLetters } from './dead-letters.js';
import { grantTable } from './grants.js';
import { ProvisionerFunction } from './provisioner-function.js';

export interface IdentityProps {
  table: Table;
  catalogPath: string;
  /** Where a rotation that cannot be delivered, or keeps failing, ends up. */
  deadLetters: DeadLetters;
}

/**
 * The signing keys: a secret that only signing functions (and the rotation) may read, a rotation
 * function that also publishes the public JWKS to the table, run at deploy to create the first key
 * and every month to rotate.
 */
export class Identity extends Construct {
  readonly keysSecret: Secret;
  readonly rotateKeys: ProvisionerFunction;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    this.keysSecret = new Secret(this, 'SigningKeys', {
      description: 'Provisioner ES256 signing keys (current and previous), written by the rotate-keys function',
      secretStringValue: SecretValue.unsafePlainText('{"keys":[]}'),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.keysSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotated by the rotate-keys function (monthly rule and on demand), which must publish the public JWKS in the same step.',
    });

    this.rotateKeys = new ProvisionerFunction(this, 'rotate-keys', {
      operation: 'rotate-keys',
      catalogPath: props.catalogPath,
      environment: { PROVISIONER_TABLE: props.table.tableName, PROVISIONER_KEYS_SECRET: this.keysSecret.secretArn },
    });
    this.keysSecret.grantRead(this.rotateKeys);
    this.keysSecret.grantWrite(this.rotateKeys);
    grantTable(props.table, this.rotateKeys, ['PutItem']);

    new Trigger(this, 'FirstKey', { handler: this.rotateKeys, timeout: Duration.minutes(1), executeOnHandlerChange: false });
    new Rule(this, 'MonthlyRotation', {
      description: 'Rotate the Provisioner signing keys',
      schedule: Schedule.rate(Duration.days(30)),
      targets: [props.deadLetters.ruleTarget(this.rotateKeys, { event: RuleTargetInput.fromObject({ action: 'rotate' }) })],
    });
    props.deadLetters.receiveFailures(this.rotateKeys);
  }
}
