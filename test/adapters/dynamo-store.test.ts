import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';

describe('DynamoStore on dynalite', () => {
  const clock = new ManualClock();
  let dynamo: LocalDynamo;
  let store: DynamoStore;

  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(clock));
  });
  afterAll(() => dynamo.close());

  it('creates an item only if absent', async () => {
    const key = { pk: 'thing#a', sk: 'meta' };
    expect(await store.createIfAbsent({ ...key, status: 'new' })).toBe(true);
    expect(await store.createIfAbsent({ ...key, status: 'other' })).toBe(false);
    expect(await store.get(key)).toMatchObject({ status: 'new', version: 1 });
  });

  it('lets exactly one of 50 concurrent transitions from the same version win', async () => {
    const key = { pk: 'thing#race', sk: 'meta' };
    await store.createIfAbsent({ ...key, status: 'absent' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.transition(key, { version: 1, status: 'absent' }, { status: 'deploying', winner: i })),
    );
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    const stored = await store.get(key);
    expect(stored).toMatchObject({ status: 'deploying', version: 2, winner: winners[0]?.winner });
  });

  it('refuses a transition from the wrong status, and removes attributes set to undefined', async () => {
    const key = { pk: 'thing#b', sk: 'meta' };
    await store.createIfAbsent({ ...key, status: 'running', note: 'x' });
    expect(await store.transition(key, { version: 1, status: 'absent' }, { status: 'deploying' })).toBeUndefined();
    const next = await store.transition(key, { version: 1, status: 'running' }, { status: 'destroying', note: undefined });
    expect(next).toMatchObject({ status: 'destroying', version: 2 });
    expect(next).not.toHaveProperty('note');
  });

  it('pages a query with next_token, newest first, and never loses or repeats an item', async () => {
    for (let i = 0; i < 7; i++) await store.createIfAbsent({ pk: 'list#p', sk: `event#${String(i).padStart(3, '0')}`, n: i });
    const seen: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await store.query({ partition: 'list#p', prefix: 'event#', limit: 3, nextToken, newestFirst: true });
      seen.push(...page.items.map((item) => item.n as number));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);
  });

  it('queries the secondary index', async () => {
    await store.createIfAbsent({ pk: 'wb#1', sk: 'meta', gsi1pk: 'owner#ann', gsi1sk: 'wb#1' });
    await store.createIfAbsent({ pk: 'wb#2', sk: 'meta', gsi1pk: 'owner#bob', gsi1sk: 'wb#2' });
    const page = await store.query({ index: 'gsi1', partition: 'owner#ann', limit: 10 });
    expect(page.items.map((i) => i.pk)).toEqual(['wb#1']);
  });

  it('refuses a next_token it did not issue', async () => {
    await expect(store.query({ partition: 'list#p', limit: 3, nextToken: 'bm90LWpzb24' })).rejects.toMatchObject({ code: 'invalid_next_token' });
    await expect(store.query({ partition: 'list#p', limit: 3, nextToken: Buffer.from('{"evil":"x"}').toString('base64url') })).rejects.toBeInstanceOf(ProvisionerError);
  });

  it('reads expired items as absent, and lets them be created again', async () => {
    const key = { pk: 'temp#1', sk: 'meta' };
    const ttl = Math.floor(clock.now().getTime() / 1000) + 60;
    await store.createIfAbsent({ ...key, ttl });
    expect(await store.get(key)).toBeDefined();
    clock.advance(61_000);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.createIfAbsent({ ...key, ttl: ttl + 3600 })).toBe(true);
  });

  it('counts atomically', async () => {
    const key = { pk: 'rate#x', sk: 'w1' };
    const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment(key, 1, 9_999_999_999)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('removes only the expected version', async () => {
    const key = { pk: 'thing#rm', sk: 'meta' };
    await store.createIfAbsent(key);
    expect(await store.remove(key, { version: 7 })).toBe(false);
    expect(await store.remove(key, { version: 1 })).toBe(true);
    expect(await store.get(key)).toBeUndefined();
  });
});
