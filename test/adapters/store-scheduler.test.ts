import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';

describe('the local scheduler', () => {
  const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
  const log = { info() {}, error() {} };
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(clock));
  });
  afterAll(() => dynamo.close());

  it('keeps schedules in the table: one that fell due while stopped fires at the next start, once', async () => {
    const first = new StoreScheduler(store, clock, log);
    const fired: string[] = [];
    await first.start(async (_target, payload) => {
      fired.push((payload as { cluster: string }).cluster);
    });
    await first.schedule({ name: 'destroy-a', at: new Date('2026-11-23T12:10:00Z'), target: 'destroy', payload: { cluster: 'a', schedule_id: 'a' } });
    await first.schedule({ name: 'destroy-b', at: new Date('2026-11-23T13:00:00Z'), target: 'destroy', payload: { cluster: 'b', schedule_id: 'b' } });
    first.stop();

    clock.set('2026-11-23T12:30:00Z');
    const second = new StoreScheduler(store, clock, log);
    const third = new StoreScheduler(store, clock, log);
    const dispatch = async (_target: string, payload: unknown) => {
      fired.push((payload as { cluster: string }).cluster);
    };
    await Promise.all([second.start(dispatch), third.start(dispatch)]);
    expect(fired).toEqual(['a']);

    clock.set('2026-11-23T13:00:00Z');
    await second.fireDue();
    expect(fired).toEqual(['a', 'b']);
    second.stop();
    third.stop();
  });

  it('does not fire a cancelled schedule, and keeps firing after a failing call', async () => {
    const scheduler = new StoreScheduler(store, clock, log);
    const fired: string[] = [];
    await scheduler.start(async (_target, payload) => {
      if ((payload as { cluster: string }).cluster === 'boom') throw new Error('boom');
      fired.push((payload as { cluster: string }).cluster);
    });
    const now = clock.now().getTime();
    await scheduler.schedule({ name: 'c', at: new Date(now + 1000), target: 'check-deadline', payload: { cluster: 'c', check_id: 'c' } });
    await scheduler.schedule({ name: 'boom', at: new Date(now + 1000), target: 'destroy', payload: { cluster: 'boom', schedule_id: 'boom' } });
    await scheduler.schedule({ name: 'd', at: new Date(now + 2000), target: 'destroy', payload: { cluster: 'd', schedule_id: 'd' } });
    await scheduler.cancel('c');
    clock.advance(2000);
    await scheduler.fireDue();
    expect(fired).toEqual(['d']);
    scheduler.stop();
  });

  it('fires on its own timer when a schedule falls due', async () => {
    const realClock = { now: () => new Date() };
    const scheduler = new StoreScheduler(store, realClock, log);
    const fired = new Promise<string>((resolve) => {
      void scheduler.start(async (_target, payload) => resolve((payload as { cluster: string }).cluster));
    });
    await scheduler.schedule({ name: 'soon', at: new Date(Date.now() + 150), target: 'destroy', payload: { cluster: 'soon', schedule_id: 'soon' } });
    await expect(fired).resolves.toBe('soon');
    scheduler.stop();
  });
});
