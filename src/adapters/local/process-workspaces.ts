import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionerError } from '../../domain/errors.js';
import type { Store, WorkspaceBackend, WorkspaceLaunch, WorkspaceStatus } from '../../ports.js';
import { workspaceKeys } from '../../store/keys.js';
import { accepts, alive, freePort, processEnvironments, type ProcessRecord, startTime } from './processes.js';

export const exampleWorkspacePath = fileURLToPath(new URL('../../../local/example-workspace.ts', import.meta.url));
const projectRoot = dirname(dirname(exampleWorkspacePath));

export interface LocalWorkspaceOptions {
  /** The command each workspace runs (default: the example workspace server). */
  command?: string[];
  /** Workspace logs go to `<logDir>/workspace-<id>.log`; none when undefined. */
  logDir?: string;
  /** Persistent runtimes start workspaces in their own process group, so they outlive a restart of `npm start`. */
  detached: boolean;
}

/** What a process needs to run at all, taken from the server's environment; nothing else of it (keys, tokens, NODE_OPTIONS). */
const essentialVariables = ['PATH', 'HOME', 'TMPDIR', 'LANG'] as const;
const essentialEnvironment = () => Object.fromEntries(essentialVariables.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));

/**
 * The processes tagged with workspace `id` (WORKSPACE_ID in their environment, which children
 * inherit), read from /proc: found even when a crash came between the start and its record. None
 * where there is no /proc.
 */
export function taggedProcesses(id: string): number[] {
  return processEnvironments().flatMap(({ pid, variables }) => (variables.get('WORKSPACE_ID') === id ? [pid] : []));
}

/**
 * Catalog workspace backend `{"kind": "local", "command"?}`: one process per workspace on a free
 * port, its environment the workspace's values (`PROVISIONER_VALUE_*`), PORT, WORKSPACE_ID and the
 * essentials (PATH, HOME, TMPDIR, LANG) — never the server's own environment; recorded in the table so status and delete
 * work across restarts (as the local cluster backend does for its nodes).
 */
export class LocalProcessWorkspaces implements WorkspaceBackend {
  private readonly started = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly options: LocalWorkspaceOptions,
  ) {}

  async create(launch: WorkspaceLaunch): Promise<void> {
    if (await this.store.get(workspaceKeys.localProcess(launch.id))) return;
    // Unrecorded processes of this workspace that this server did not start: a crash came between a start and its record.
    taggedProcesses(launch.id).filter((pid) => !this.started.has(pid)).forEach((pid) => this.kill(pid));
    const command = this.options.command ?? [process.execPath, '--import', 'tsx', exampleWorkspacePath];
    const port = await freePort();
    const output = this.logFile(launch.id);
    const [file = process.execPath, ...args] = command;
    const child = spawn(file, args, {
      cwd: projectRoot,
      detached: this.options.detached,
      stdio: ['ignore', output, output],
      env: { ...essentialEnvironment(), ...launch.environment, PORT: String(port), WORKSPACE_ID: launch.id },
    });
    child.unref();
    if (typeof output === 'number') closeSync(output);
    if (child.pid === undefined) throw new ProvisionerError('backend_unavailable', `Could not start ${file} for workspace ${launch.id}.`);
    this.started.add(child.pid);
    const record: ProcessRecord = { pid: child.pid, port, started: startTime(child.pid) };
    // Another call recorded this workspace first: ours is surplus.
    if (!(await this.store.createIfAbsent({ ...workspaceKeys.localProcess(launch.id), process: record }))) this.kill(record.pid);
  }

  async status(id: string): Promise<WorkspaceStatus> {
    const record = await this.record(id);
    if (!record) return { state: 'gone' };
    if (!alive(record)) return { state: 'failed', reason: 'the workspace process exited' };
    return (await accepts(record.port)) ? { state: 'running', host: '127.0.0.1', port: record.port } : { state: 'pending' };
  }

  /** Stops the recorded process and any other tagged with this workspace (a start a crash kept from being recorded). */
  async delete(id: string): Promise<void> {
    const record = await this.record(id);
    if (record && alive(record)) this.kill(record.pid);
    taggedProcesses(id).forEach((pid) => this.kill(pid));
    if (record) await this.store.remove(workspaceKeys.localProcess(id));
  }

  /** Stops the workspaces this process started (a `--memory` runtime's shutdown). */
  stopAll(): void {
    this.started.forEach((pid) => this.kill(pid));
  }

  private async record(id: string): Promise<ProcessRecord | undefined> {
    return (await this.store.get(workspaceKeys.localProcess(id)))?.process as ProcessRecord | undefined;
  }

  private kill(pid: number): void {
    // Detached workspaces lead a process group of their own: the whole group goes.
    for (const target of this.options.detached ? [-pid, pid] : [pid]) {
      try {
        process.kill(target, 'SIGTERM');
        break;
      } catch {
        // not a group leader, or already gone
      }
    }
    this.started.delete(pid);
  }

  private logFile(id: string): 'ignore' | number {
    if (!this.options.logDir) return 'ignore';
    mkdirSync(this.options.logDir, { recursive: true });
    return openSync(join(this.options.logDir, `workspace-${id}.log`), 'a');
  }
}
