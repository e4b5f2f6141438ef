import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { tableSchema } from '../src/store/table.js';

export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/**
 * Exactly the DynamoDB actions named, on the table; Query also on the named index (no `index/*`).
 * CDK's grantRead/WriteData give more actions than an operation needs.
 */
export function grantTable(table: Table, grantee: IGrantable, actions: TableAction[]): void {
  if (actions.length === 0) return;
  const resources = [table.tableArn];
  if (actions.includes('Query')) resources.push(...tableSchema.indexes.map((index) => `${table.tableArn}/index/${index.name}`));
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources }));
}
