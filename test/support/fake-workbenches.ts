import type { TaskState } from '../../src/domain/workbenches.js';
import type { WorkbenchCompute, WorkbenchStarted, WorkbenchTask, WorkbenchTaskStatus } from '../../src/ports.js';

/** A workbench backend that records its calls and reports whatever task state the test sets, per run. */
export class FakeWorkbenches implements WorkbenchCompute {
  readonly started: WorkbenchTask[] = [];
  readonly stopped: string[] = [];
  readonly removed: string[] = [];
  private readonly runs = new Map<string, WorkbenchTaskStatus>();
  failStart = false;
  failStatus = false;
  /** Run once before the next status answer / after the next start (a test's way to race a request in). */
  beforeStatus?: () => Promise<void>;
  afterStart?: () => Promise<void>;

  /** Throws this at the next starts (e.g. a transient AWS failure), instead of failStart's refusal. */
  startError?: Error;
  /** Whether dedicated instances have registered with the cluster: until then a dedicated start waits for its instance. */
  instancesRegistered = true;

  async start(task: WorkbenchTask): Promise<WorkbenchStarted> {
    if (this.startError) throw this.startError;
    if (this.failStart) throw new Error('no capacity');
    if (task.dedicatedInstance && !this.instancesRegistered) return { pendingInstance: `i-${task.workbenchId.slice(3)}` };
    this.started.push(task);
    if (!this.runs.has(task.runId)) this.runs.set(task.runId, { state: 'provisioning' });
    await this.afterStart?.();
    return { taskArn: `arn:aws:ecs:us-east-1:123456789012:task/workbenches/${task.runId}` };
  }

  async status(task: WorkbenchTask): Promise<WorkbenchTaskStatus> {
    if (this.failStatus) throw new Error('ECS is throttling');
    await this.beforeStatus?.();
    return this.runs.get(task.runId) ?? { state: 'gone' };
  }

  async stop(task: WorkbenchTask): Promise<void> {
    this.stopped.push(task.runId);
    if (this.runs.has(task.runId)) this.runs.set(task.runId, { state: 'stopped', reason: 'Stopped by Provisioner' });
  }

  async remove(task: WorkbenchTask): Promise<void> {
    this.removed.push(task.workbenchId);
    await this.stop(task);
  }

  /** The latest run of a workbench. */
  latest(workbenchId: string): WorkbenchTask {
    const found = this.started.filter((t) => t.workbenchId === workbenchId).at(-1);
    if (!found) throw new Error(`no run of ${workbenchId}`);
    return found;
  }

  set(workbenchId: string, state: TaskState, extra: Omit<WorkbenchTaskStatus, 'state'> = {}): void {
    this.runs.set(this.latest(workbenchId).runId, { state, ...extra });
  }

  /** Runs whose task is alive (not stopped or gone). */
  live(workbenchId: string): string[] {
    return this.started.filter((t) => t.workbenchId === workbenchId && !['stopped', 'gone'].includes(this.runs.get(t.runId)?.state ?? 'gone')).map((t) => t.runId);
  }
}
