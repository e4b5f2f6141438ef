import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoStore } from '../adapters/aws/dynamo-store.js';
import { startLocalDynamo } from '../adapters/local/dynalite.js';
import { type LocalConfig, localTableName } from '../config.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { Deps } from './deps.js';

export interface LocalRuntime {
  deps: Deps;
  close(): Promise<void>;
}

export interface LocalRuntimeOptions {
  config: LocalConfig;
  clock?: Clock;
}

/**
 * Builds the local adapters once: dynalite (persisted under the data dir, or in memory), and the
 * rest on top of it. The local server installs the result for every handler.
 */
export async function startLocalRuntime({ config, clock = systemClock }: LocalRuntimeOptions): Promise<LocalRuntime> {
  let path: string | undefined;
  if (!config.PROVISIONER_MEMORY) {
    path = join(config.PROVISIONER_DATA_DIR, 'dynamodb');
    mkdirSync(path, { recursive: true, mode: 0o700 });
  }
  const dynamo = await startLocalDynamo({ path, tableName: localTableName });
  const deps: Deps = {
    clock,
    store: new DynamoStore(dynamo.client, localTableName, clock),
  };
  return { deps, close: () => dynamo.close() };
}
