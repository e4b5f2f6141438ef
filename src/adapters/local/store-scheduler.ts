import type { Clock } from '../../domain/clock.js';
import type { Log } from '../../log.js';
import type { ScheduledCall, Scheduler, Store } from '../../ports.js';
import type { ScheduleTarget } from '../../scheduling/targets.js';
import { listKeys, scheduleKeys } from '../../store/keys.js';

/** Runs a fired schedule's target with its payload (validated by the target's handler). */
export type Dispatch = (target: ScheduleTarget, payload: unknown) => Promise<void>;

/**
 * The local scheduler: schedules are items in the table (listed in time order on the secondary
 * index), so they survive a restart; one timer waits for the next due one. Due schedules that fell
 * due while the server was down fire at start. Firing removes the item first (a conditional delete),
 * so a schedule fires once even if two timers race.
 */
export class StoreScheduler implements Scheduler {
  private timer?: NodeJS.Timeout;
  private dispatch?: Dispatch;
  private firing = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Pick<Log, 'error' | 'info'>,
  ) {}

  /** Starts firing: what is already due now, then each schedule at its time. */
  async start(dispatch: Dispatch): Promise<void> {
    this.dispatch = dispatch;
    await this.fireDue();
  }

  stop(): void {
    this.dispatch = undefined;
    clearTimeout(this.timer);
  }

  async schedule(call: ScheduledCall): Promise<void> {
    await this.store.createIfAbsent({
      ...scheduleKeys.item(call.name),
      gsi1pk: listKeys.schedules,
      gsi1sk: scheduleKeys.order(call.at, call.name),
      name: call.name,
      at: call.at.toISOString(),
      target: call.target,
      payload: call.payload,
    });
    await this.arm();
  }

  async cancel(name: string): Promise<void> {
    await this.store.remove(scheduleKeys.item(name));
    await this.arm();
  }

  /** Fires every schedule due by the clock's now, oldest first; then waits for the next one. */
  fireDue(): Promise<void> {
    this.firing = this.firing.then(() => this.fireAll()).catch((error: unknown) => this.log.error('scheduler failed', { error: (error as Error).message }));
    return this.firing;
  }

  private async fireAll(): Promise<void> {
    while (this.dispatch) {
      const { items } = await this.store.query({ index: 'gsi1', partition: listKeys.schedules, limit: 25 });
      const due = items.filter((item) => Date.parse(String(item.at)) <= this.clock.now().getTime());
      if (due.length === 0) break;
      for (const item of due) {
        if (!(await this.store.remove({ pk: item.pk, sk: item.sk }, { version: item.version }))) continue;
        this.log.info('schedule fired', { name: item.name, target: item.target });
        try {
          await this.dispatch(item.target as ScheduleTarget, item.payload);
        } catch (error) {
          this.log.error('scheduled call failed', { name: item.name, error: (error as Error).message });
        }
      }
    }
    await this.arm();
  }

  private async arm(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.dispatch) return;
    const { items } = await this.store.query({ index: 'gsi1', partition: listKeys.schedules, limit: 1 });
    const next = items[0];
    if (!next) return;
    const delay = Math.max(0, Math.min(Date.parse(String(next.at)) - this.clock.now().getTime(), 2 ** 31 - 1));
    this.timer = setTimeout(() => void this.fireDue(), delay);
    this.timer.unref();
  }
}
