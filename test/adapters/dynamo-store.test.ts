import { startLocalDynamo } from '../../src/adapters/local/dynalite.js';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { storeContract } from '../store/contract.js';

// The moto run of the same contract: test/aws/dynamo-store.test.ts.
storeContract('dynalite', async (clock) => {
  const dynamo = await startLocalDynamo({ tableName: 'provisioner-test' });
  return { store: new DynamoStore(dynamo.client, 'provisioner-test', clock), close: () => dynamo.close() };
});
