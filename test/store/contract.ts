import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProvisionerError } from '../../src/domain/errors.js';
import type { Store } from '../../src/ports.js';
import { ManualClock } from '../support/dynamo.js';

/** A store on a table made from `src/store/table.ts`, read with `clock`. */
export interface ContractTable {
  store: Store;
  close(): Promise<void>;
}

/**
 * The Store port's contract, run against every DynamoDB that serves it (dynalite and moto): two
 * independent implementations of the wire protocol must agree on each of these answers.
 */
export function storeContract(name: string, open: (clock: ManualClock) => Promise<ContractTable>): void {
  describe(`the store contract on ${name}`, () => {
    const clock = new ManualClock();
    let table: ContractTable;
    let store: Store;

    beforeAll(async () => {
      table = await open(clock);
      store = table.store;
    });
    afterAll(() => table.close());

    it('creates an item only if absent', async () => {
      const key = { pk: 'thing#a', sk: 'meta' };
      expect(await store.createIfAbsent({ ...key, status: 'new' })).toBe(true);
      expect(await store.createIfAbsent({ ...key, status: 'other' })).toBe(false);
      expect(await store.get(key)).toMatchObject({ status: 'new', version: 1 });
    });

    it('lets exactly one of 20 concurrent transitions from the same version win', async () => {
      const key = { pk: 'thing#race', sk: 'meta' };
      await store.createIfAbsent({ ...key, status: 'absent' });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.transition(key, { version: 1, status: 'absent' }, { status: 'deploying', winner: i })),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(await store.get(key)).toMatchObject({ status: 'deploying', version: 2, winner: winners[0]?.winner });
    });

    it('refuses a transition from the wrong status or version, returns the whole new item, and removes attributes set to undefined', async () => {
      const key = { pk: 'thing#b', sk: 'meta' };
      await store.createIfAbsent({ ...key, status: 'running', note: 'x', kept: 'k' });
      expect(await store.transition(key, { version: 1, status: 'absent' }, { status: 'deploying' })).toBeUndefined();
      expect(await store.transition(key, { version: 2 }, { status: 'deploying' })).toBeUndefined();
      const next = await store.transition(key, { version: 1, status: 'running' }, { status: 'destroying', note: undefined, version: 99, pk: 'other' });
      expect(next).toEqual({ ...key, status: 'destroying', kept: 'k', version: 2 });
      expect(await store.transition(key, { version: 2 }, { reason: 'version alone' })).toMatchObject({ status: 'destroying', reason: 'version alone', version: 3 });
    });

    it('pages a query with next_token, newest first, and never loses or repeats an item', async () => {
      for (let i = 0; i < 7; i++) await store.createIfAbsent({ pk: 'list#p', sk: `event#${String(i).padStart(3, '0')}`, n: i });
      await store.createIfAbsent({ pk: 'list#p', sk: 'other#000', n: -1 });
      const seen: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await store.query({ partition: 'list#p', prefix: 'event#', limit: 3, nextToken, newestFirst: true });
        seen.push(...page.items.map((item) => item.n as number));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);
    });

    it('queries a sort-key range, oldest first', async () => {
      const page = await store.query({ partition: 'list#p', prefix: 'event#002', through: 'event#004', limit: 10 });
      expect(page.items.map((item) => item.n)).toEqual([2, 3, 4]);
      expect(page.nextToken).toBeUndefined();
    });

    it('queries the secondary index, paging it with next_token', async () => {
      for (const [id, owner] of [['1', 'ann'], ['2', 'bob'], ['3', 'ann'], ['4', 'ann']] as const) {
        await store.createIfAbsent({ pk: `wb#${id}`, sk: 'meta', gsi1pk: `owner#${owner}`, gsi1sk: `wb#${id}` });
      }
      const first = await store.query({ index: 'gsi1', partition: 'owner#ann', limit: 2 });
      expect(first.items.map((i) => i.pk)).toEqual(['wb#1', 'wb#3']);
      expect(first.nextToken).toBeDefined();
      const second = await store.query({ index: 'gsi1', partition: 'owner#ann', limit: 2, nextToken: first.nextToken });
      expect(second.items.map((i) => i.pk)).toEqual(['wb#4']);
      // A cursor of the index is bound to its partition too.
      await expect(store.query({ index: 'gsi1', partition: 'owner#bob', limit: 2, nextToken: first.nextToken })).rejects.toMatchObject({ code: 'invalid_next_token' });
    });

    it('refuses a next_token it did not issue, or one of another list', async () => {
      await expect(store.query({ partition: 'list#p', limit: 3, nextToken: 'bm90LWpzb24' })).rejects.toMatchObject({ code: 'invalid_next_token' });
      await expect(store.query({ partition: 'list#p', limit: 3, nextToken: Buffer.from('{"evil":"x"}').toString('base64url') })).rejects.toBeInstanceOf(ProvisionerError);
      const page = await store.query({ partition: 'list#p', prefix: 'event#', limit: 1 });
      await expect(store.query({ partition: 'list#q', prefix: 'event#', limit: 1, nextToken: page.nextToken })).rejects.toMatchObject({ code: 'invalid_next_token' });
      await expect(store.query({ partition: 'list#p', prefix: 'other#', limit: 1, nextToken: page.nextToken })).rejects.toMatchObject({ code: 'invalid_next_token' });
    });

    it('reads expired items as absent (in a get and a query), and lets them be created again', async () => {
      const key = { pk: 'temp#1', sk: 'meta' };
      const ttl = Math.floor(clock.now().getTime() / 1000) + 60;
      await store.createIfAbsent({ ...key, ttl });
      expect(await store.get(key)).toBeDefined();
      clock.advance(61_000);
      expect(await store.get(key)).toBeUndefined();
      expect((await store.query({ partition: 'temp#1', limit: 5 })).items).toEqual([]);
      expect(await store.createIfAbsent({ ...key, ttl: ttl + 3600 })).toBe(true);
      expect(await store.get(key)).toMatchObject({ ttl: ttl + 3600, version: 1 });
    });

    it('counts atomically, setting the ttl only once', async () => {
      const key = { pk: 'rate#x', sk: 'w1' };
      const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => store.increment(key, 1, 9_999_999_000 + i)));
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.increment(key, 5, 1)).toBe(25);
      const item = await store.get(key);
      expect(item?.ttl).toBeGreaterThanOrEqual(9_999_999_000);
    });

    it('puts over whatever is there', async () => {
      const key = { pk: 'keys', sk: 'jwks' };
      await store.put({ ...key, jwks: { keys: [1] } });
      await store.put({ ...key, jwks: { keys: [2] } });
      expect(await store.get(key)).toEqual({ ...key, jwks: { keys: [2] }, version: 1 });
    });

    it('removes only the expected version, or unconditionally', async () => {
      const key = { pk: 'thing#rm', sk: 'meta' };
      await store.createIfAbsent(key);
      expect(await store.remove(key, { version: 7 })).toBe(false);
      expect(await store.remove(key, { version: 1 })).toBe(true);
      expect(await store.get(key)).toBeUndefined();
      await store.createIfAbsent(key);
      expect(await store.remove(key)).toBe(true);
      expect(await store.get(key)).toBeUndefined();
    });

    it('claims up to max members at once (a member again counts once), tells who holds them, and releases', async () => {
      const key = { pk: 'slots#olga', sk: 'slots' };
      const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 12, minute));
      expect(await store.claim(key, 'acme-dev', 2, at(0))).toEqual({ won: true, members: { 'acme-dev': at(0).toISOString() } });
      const contenders = ['acme-qa', 'acme-prod', 'acme-test'];
      const raced = await Promise.all(contenders.map((member) => store.claim(key, member, 2, at(1))));
      const winners = contenders.filter((_, i) => raced[i]?.won);
      expect(winners).toHaveLength(1);
      for (const claim of raced.filter((c) => !c.won)) expect(Object.keys(claim.members).sort()).toEqual(['acme-dev', ...winners].sort());
      // The same member claiming again is no new slot: it wins, with its new time.
      expect(await store.claim(key, 'acme-dev', 2, at(2))).toMatchObject({ won: true, members: { 'acme-dev': at(2).toISOString() } });
      await store.release(key, 'acme-dev');
      const after = await store.claim(key, 'acme-test', 2, at(3));
      expect(after.won).toBe(true);
      expect(Object.keys(after.members)).not.toContain('acme-dev');
      expect(after.members['acme-test']).toBe(at(3).toISOString());
    });
  });
}
