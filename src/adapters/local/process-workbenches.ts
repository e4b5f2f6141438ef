import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionerError } from '../../domain/errors.js';
import type { Store, WorkbenchCompute, WorkbenchTask, WorkbenchTaskStatus } from '../../ports.js';
import { workbenchKeys } from '../../store/keys.js';

export const exampleWorkbenchPath = fileURLToPath(new URL('../../../local/example-workbench.ts', import.meta.url));
const projectRoot = dirname(dirname(exampleWorkbenchPath));

interface RunRecord {
  pid: number;
  port: number;
  /** The process's start time (Linux /proc), so a reused pid is never taken for ours. */
  started?: string;
}

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
    const record: RunRecord = { pid: child.pid, port, started: startTime(child.pid) };
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

  private async record(runId: string): Promise<RunRecord | undefined> {
    if (!runId) return undefined;
    return (await this.store.get(workbenchKeys.localRun(runId)))?.run as RunRecord | undefined;
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

function alive(record: RunRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  return record.started === undefined || startTime(record.pid) === record.started;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 500 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
