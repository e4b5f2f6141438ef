import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionerError } from '../../domain/errors.js';
import type { Store, WorkbenchCompute, WorkbenchStarted, WorkbenchTask, WorkbenchTaskStatus } from '../../ports.js';
import { workbenchKeys } from '../../store/keys.js';
import { accepts, alive, freePort, processEnvironments, type ProcessRecord, startTime } from './processes.js';

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
  /** This runtime's id, tagged on every process, so a sweep touches only its own (as cluster nodes' `owner`). */
  runtime: string;
}

/**
 * The environment variables that tag every workbench process (what ECS tags are in AWS): found in
 * /proc, they let stop, delete and the janitor end a process whose record a crash lost.
 */
const tags = { workbench: 'PROVISIONER_WORKBENCH', run: 'PROVISIONER_WORKBENCH_RUN', startedAt: 'PROVISIONER_WORKBENCH_STARTED', runtime: 'PROVISIONER_RUNTIME' } as const;

/** A live process carrying a workbench run's tags. */
export interface TaggedWorkbench {
  pid: number;
  workbenchId: string;
  runId: string;
  startedAt: string;
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

  /** Starts the run's process (none if the run has a record); a process has no ARN to record. */
  async start(task: WorkbenchTask): Promise<WorkbenchStarted> {
    if (await this.store.get(workbenchKeys.localRun(task.runId))) return {};
    const [file = process.execPath, ...args] = this.options.command ?? [process.execPath, '--import', 'tsx', exampleWorkbenchPath];
    const port = await freePort();
    const output = this.logFile(task);
    const child = spawn(file, args, {
      cwd: projectRoot,
      detached: this.options.detached,
      stdio: ['ignore', output, output],
      // Never the server's environment (it holds the API's settings and credentials): fixed names, values as data.
      env: {
        ...(process.env.PATH !== undefined && { PATH: process.env.PATH }),
        ...(process.env.HOME !== undefined && { HOME: process.env.HOME }),
        PORT: String(port),
        WORKBENCH_ID: task.workbenchId,
        WORKBENCH_NAME: task.name,
        WORKBENCH_OWNER: task.ownerLogin ?? task.owner,
        WORKBENCH_DATA: this.dataPath(task.workbenchId),
        [tags.workbench]: task.workbenchId,
        [tags.run]: task.runId,
        [tags.startedAt]: new Date().toISOString(),
        [tags.runtime]: this.options.runtime,
      },
    });
    child.unref();
    if (typeof output === 'number') closeSync(output);
    if (child.pid === undefined) throw new ProvisionerError('backend_unavailable', `Could not start ${file} for ${task.workbenchId}.`);
    this.started.add(child.pid);
    const record: ProcessRecord = { pid: child.pid, port, started: startTime(child.pid) };
    if (!(await this.store.createIfAbsent({ ...workbenchKeys.localRun(task.runId), workbench: task.workbenchId, run: record }))) this.kill(child.pid);
    return {};
  }

  async status(task: WorkbenchTask): Promise<WorkbenchTaskStatus> {
    const record = await this.record(task.runId);
    if (!record) return { state: 'gone' };
    const endpoint = `http://127.0.0.1:${record.port}`;
    if (!alive(record)) return { state: 'stopped', reason: 'the workbench process exited', endpoint };
    return { state: (await accepts(record.port)) ? 'running' : 'pending', endpoint };
  }

  /** Stops the run's recorded process and any process tagged with the run (one whose record a crash lost). */
  async stop(task: WorkbenchTask): Promise<void> {
    const record = await this.record(task.runId);
    if (record && alive(record)) this.kill(record.pid);
    this.taggedHere().filter((p) => p.runId === task.runId).forEach((p) => this.kill(p.pid));
    if (record) await this.store.remove(workbenchKeys.localRun(task.runId));
  }

  /** Stops the run, and every process of the workbench whatever its run, then removes its data. */
  async remove(task: WorkbenchTask): Promise<void> {
    await this.stop(task);
    this.taggedHere().filter((p) => p.workbenchId === task.workbenchId).forEach((p) => this.kill(p.pid));
    rmSync(this.dataPath(task.workbenchId), { recursive: true, force: true });
  }

  /** The janitor's sweep: stops this runtime's tagged processes whose run is not live and that started before it began. */
  async sweep(live: ReadonlySet<string>, startedBefore: Date): Promise<string[]> {
    const swept = new Set<string>();
    for (const found of this.taggedHere()) {
      if (live.has(found.runId) || found.startedAt >= startedBefore.toISOString()) continue;
      this.kill(found.pid);
      await this.store.remove(workbenchKeys.localRun(found.runId));
      swept.add(found.runId);
    }
    return [...swept];
  }

  /** Live processes tagged as workbench runs of `runtime` (all runtimes' when undefined); none where there is no /proc. */
  static tagged(runtime?: string): TaggedWorkbench[] {
    return processEnvironments().flatMap(({ pid, variables }) => {
      const [workbenchId, runId] = [variables.get(tags.workbench), variables.get(tags.run)];
      if (!workbenchId || !runId || (runtime !== undefined && variables.get(tags.runtime) !== runtime)) return [];
      return [{ pid, workbenchId, runId, startedAt: variables.get(tags.startedAt) ?? '' }];
    });
  }

  private taggedHere(): TaggedWorkbench[] {
    return LocalWorkbenchCompute.tagged(this.options.runtime);
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
