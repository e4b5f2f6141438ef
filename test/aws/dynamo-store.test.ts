import { afterAll, beforeAll } from '@jest/globals';
import { DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { ensureTable } from '../../src/adapters/local/dynalite.js';
import { tableSchema } from '../../src/store/table.js';
import { type Moto, startMoto } from '../support/moto.js';
import { storeContract } from '../store/contract.js';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(() => moto.stop());

// The same contract as on dynalite (test/adapters/dynamo-store.test.ts), on moto's DynamoDB, with the
// table made from the one schema (src/store/table.ts) and its TTL attribute enabled, as the stack does.
storeContract('moto', async (clock) => {
  const client = new DynamoDBClient(moto.clientConfig);
  await ensureTable(client, 'provisioner-moto');
  await client.send(new UpdateTimeToLiveCommand({ TableName: 'provisioner-moto', TimeToLiveSpecification: { AttributeName: tableSchema.ttlAttribute, Enabled: true } }));
  return { store: new DynamoStore(client, 'provisioner-moto', clock), close: async () => client.destroy() };
});
