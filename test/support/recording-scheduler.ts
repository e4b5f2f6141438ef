import type { ScheduledCall, Scheduler } from '../../src/ports.js';

/** The schedules that exist, as EventBridge Scheduler would hold them (nothing fires by itself). */
export class RecordingScheduler implements Scheduler {
  readonly schedules = new Map<string, ScheduledCall>();
  async schedule(call: ScheduledCall): Promise<void> {
    this.schedules.set(call.name, call);
  }
  async cancel(name: string): Promise<void> {
    this.schedules.delete(name);
  }
  /** The schedules whose payload names `cluster`. */
  of(cluster: string): ScheduledCall[] {
    return [...this.schedules.values()].filter((s) => 'cluster' in s.payload && s.payload.cluster === cluster);
  }
}
