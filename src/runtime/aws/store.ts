import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../adapters/aws/dynamo-store.js';
import { readEnv } from '../../config.js';
import { systemClock } from '../../domain/clock.js';
import * as z from '../../zod.js';
import { once } from '../../once.js';
import { credentials } from './credentials.js';

/** The table named by PROVISIONER_TABLE; built on first use, kept across warm invocations. */
export const store = once(() => {
  const { PROVISIONER_TABLE } = readEnv({ PROVISIONER_TABLE: z.string().check(z.minLength(3)) });
  return new DynamoStore(new DynamoDBClient({ credentials }), PROVISIONER_TABLE, systemClock);
});
