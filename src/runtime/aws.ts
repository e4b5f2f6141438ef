import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { DynamoStore } from '../adapters/aws/dynamo-store.js';
import { readEnv } from '../config.js';
import { systemClock } from '../domain/clock.js';
import { once } from './deps.js';

/**
 * AWS providers, one exported function each so that esbuild drops the ones a handler does not import.
 * Each is built on first use and cached across warm invocations.
 */
export const clock = () => systemClock;

export const store = once(() => {
  const { PROVISIONER_TABLE } = readEnv({ PROVISIONER_TABLE: z.string().min(3) });
  return new DynamoStore(new DynamoDBClient({}), PROVISIONER_TABLE, systemClock);
});
