import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from './api.js';
import { State } from './state.js';

/** Provisioner: the stateful table, and the stateless API on top of it. */
export class ProvisionerStack extends Stack {
  readonly state: State;
  readonly api: Api;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.state = new State(this, 'State');
    this.api = new Api(this, 'Api', { table: this.state.table });
  }
}
