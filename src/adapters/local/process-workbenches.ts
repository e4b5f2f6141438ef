import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionerError } from '../../domain/errors.js';
import type { Store, WorkbenchCompute, WorkbenchTask, WorkbenchTaskStatus } from '../../ports.js';
import { workbenchKeys } from '../../store/keys.js';
import { accepts, alive, freePort, type ProcessRecord, startTime } from './processes.js';

export const exampleWorkbenchPath = fileURLToPath(new URL('../../../local/example-workbench.ts', import.meta.url));
const projectRoot = dirname(dirname(exampleWorkbenchPath));

export interface LocalWorkbenchOptions {
  /** The catalog's command (default: the example workbench server). */
  command?: string[];
  /** Each workbench's data lives in `<dataDir>/<id>`, which delete removes. */
  dataDir: string;
  logDir?: string;
  /** As for cluster nodes: persistent runtimes leave workbenches running across a restart of `npm start`. */
  detached: boolean;
}

/**
 * Workbenches as local processes on a free port, one per run, recorded in the table by run id (so
 * status and stop work across restarts). The public endpoint is the process's local URL.
 */
export class LocalWorkbenchCompute implements WorkbenchCompute {
  private readonly started = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly options: LocalWorkbenchOptions,
  ) {}

  async start(task: WorkbenchTask): Promise<void> {
    if (await this.store.get(workbenchKeys.localRun(task.runId))) return;
    const [file = process.execPath, ...args] = this.options.command ?? [process.execPath, '--import', 'tsx', exampleWorkbenchPath];
    const port = await freePort();
    const output = this.logFile(task);
    const child = spawn(file, args, {
      cwd: projectRoot,
      detached: this.options.detached,
      stdio: ['ignore', output, output],
      env: {
        ...process.env,
        PORT: String(port),
        WORKBENCH_ID: task.workbenchId,
        WORKBENCH_NAME: task.name,
        WORKBENCH_OWNER: task.ownerLogin ?? task.owner,
        WORKBENCH_DATA: this.dataPath(task.workbenchId),
      },
    });
    child.unref();
    if (typeof output === 'number') closeSync(output);
    if (child.pid === undefined) throw new ProvisionerError('backend_unavailable', `Could not start ${file} for ${task.workbenchId}.`);
    this.started.add(child.pid);
    const record: ProcessRecord = { pid: child.pid, port, started: startTime(child.pid) };
    if (!(await this.store.createIfAbsent({ ...workbenchKeys.localRun(task.runId), workbench: task.workbenchId, run: record }))) this.kill(child.pid);
  }

  async status(task: WorkbenchTask): Promise<WorkbenchTaskStatus> {
    const record = await this.record(task.runId);
    if (!record) return { state: 'gone' };
    const endpoint = `http://127.0.0.1:${record.port}`;
    if (!alive(record)) return { state: 'stopped', reason: 'the workbench process exited', endpoint };
    return { state: (await accepts(record.port)) ? 'running' : 'pending', endpoint };
  }

  async stop(task: WorkbenchTask): Promise<void> {
    const record = await this.record(task.runId);
    if (!record) return;
    if (alive(record)) this.kill(record.pid);
    await this.store.remove(workbenchKeys.localRun(task.runId));
  }

  async remove(task: WorkbenchTask): Promise<void> {
    await this.stop(task);
    rmSync(this.dataPath(task.workbenchId), { recursive: true, force: true });
  }

  /** Stops the workbenches this process started (a `--memory` runtime's shutdown). */
  stopAll(): void {
    this.started.forEach((pid) => this.kill(pid));
  }

  dataPath(workbenchId: string): string {
    return join(this.options.dataDir, workbenchId);
  }

  private async record(runId: string): Promise<ProcessRecord | undefined> {
    if (!runId) return undefined;
    return (await this.store.get(workbenchKeys.localRun(runId)))?.run as ProcessRecord | undefined;
  }

  private kill(pid: number): void {
    try {
      process.kill(this.options.detached ? -pid : pid, 'SIGTERM');
    } catch {
      // already gone
    }
    this.started.delete(pid);
  }

  private logFile(task: WorkbenchTask): 'ignore' | number {
    if (!this.options.logDir) return 'ignore';
    mkdirSync(this.options.logDir, { recursive: true });
    return openSync(join(this.options.logDir, `workbench-${task.workbenchId}-${task.runId}.log`), 'a');
  }
}

// The process helpers below mirror process-compute.ts (cluster code, left untouched on this branch).
