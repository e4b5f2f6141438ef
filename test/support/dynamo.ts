import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { type LocalDynamo, startLocalDynamo } from '../../src/adapters/local/dynalite.js';
import type { Clock } from '../../src/domain/clock.js';

/** A clock the test moves by hand: time windows are tested exactly, never with sleeps. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-23T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** dynalite in memory on a free port, with the project's table, and a store on it. */
export async function startTestStore(clock: Clock = new ManualClock()): Promise<{ dynamo: LocalDynamo; store: DynamoStore }> {
  const dynamo = await startLocalDynamo({ tableName: 'provisioner-test' });
  return { dynamo, store: new DynamoStore(dynamo.client, 'provisioner-test', clock) };
}
