import { Rule } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { lostStates } from '../src/operations/clusters/instance-events.js';
import type { DeadLetters } from './dead-letters.js';
import { ProvisionerFunction } from './provisioner-function.js';

export interface DriftProps {
  catalogPath: string;
  /** What every function gets (table, settings). */
  environment: Record<string, string>;
  /** Where an event that cannot be delivered, or whose function keeps failing, ends up. */
  deadLetters: DeadLetters;
}

/**
 * Drift of EC2 clusters: an EventBridge rule on EC2 instance state changes (a node stopping or
 * terminating: spot reclaim, a manual terminate) runs the `instance-state` function, which records
 * `degraded` on the cluster whose running deployment the instance belongs to. Its access is the
 * `instance-state` entry of the access table.
 */
export class Drift extends Construct {
  readonly instanceState: ProvisionerFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DriftProps) {
    super(scope, id);
    this.instanceState = new ProvisionerFunction(this, 'instance-state', { operation: 'instance-state', catalogPath: props.catalogPath, environment: props.environment });
    this.rule = new Rule(this, 'InstanceStateChanges', {
      description: 'EC2 instances stopping or terminating: Provisioner marks their cluster degraded',
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'], detail: { state: [...lostStates] } },
      targets: [props.deadLetters.ruleTarget(this.instanceState, { retryAttempts: 8 })],
    });
    props.deadLetters.receiveFailures(this.instanceState);
  }
}
