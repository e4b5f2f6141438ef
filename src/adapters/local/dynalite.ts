import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { tableSchema } from '../../store/table.js';

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Serves the DynamoDB wire protocol in-process with dynalite: persisted in LevelDB under `path`,
 * or in memory without one. Creates the table on first use.
 */
export async function startLocalDynamo(options: { path?: string; tableName: string }): Promise<LocalDynamo> {
  if (options.path) await probeStore(options.path);
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // A connection reset under load is retried; a conditional write that did land answers as a lost race, which callers re-read.
    maxAttempts: 3,
  });
  await ensureTable(client, options.tableName);
  return {
    client,
    endpoint,
    close: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local store that cannot be opened: start-up stops with this one line. */
export class LocalStoreError extends Error {
  override name = 'LocalStoreError';
}

/**
 * Opens and closes the LevelDB store dynalite will use: dynalite itself throws an open failure from
 * a callback, past any handler, as a stack. Here it is one line naming the folder and what to do.
 */
async function probeStore(path: string): Promise<void> {
  const { Level } = (await import('level')) as unknown as { Level: new (path: string) => { open(): Promise<void>; close(): Promise<void> } };
  const db = new Level(path);
  try {
    await db.open();
    await db.close();
  } catch (error) {
    const cause = String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new LocalStoreError(
      /lock/i.test(cause)
        ? `${path} is in use by another running npm start (${cause}); stop it, or set PROVISIONER_DATA_DIR to another folder.`
        : `${path} cannot be opened as the local store (${cause}); move it aside to start with an empty one.`,
    );
  }
}

/** Creates the table from the one schema definition unless it exists. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  const keyNames = [tableSchema.partitionKey, tableSchema.sortKey, ...tableSchema.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keyNames.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' },
          { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: tableSchema.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // dynalite has no UpdateTimeToLive (nor TTL deletion): the store filters expired items on read.
}
