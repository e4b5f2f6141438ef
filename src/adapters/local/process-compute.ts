import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionerError } from '../../domain/errors.js';
import type { ClusterCompute, Deployment, DeploymentStatus, Store } from '../../ports.js';
import { localDeploymentKey } from '../../store/keys.js';

export const exampleClusterPath = fileURLToPath(new URL('../../../local/example-cluster.ts', import.meta.url));
const projectRoot = dirname(dirname(exampleClusterPath));

interface NodeRecord {
  pid: number;
  port: number;
  /** The process's start time (Linux /proc), so a pid reused after a reboot is never taken for ours. */
  started?: string;
}

export interface LocalComputeOptions {
  /** Where the API is, for the nodes to fetch its JWKS. */
  api: () => { issuer: string; jwksUrl: string };
  /** Node logs go to `<logDir>/<cluster>-<deployment>-<n>.log`; none when undefined. */
  logDir?: string;
  /**
   * Persistent runtimes start nodes in their own process group, so they outlive a restart of
   * `npm start` and are re-adopted from the table; a `--memory` runtime stops them when it stops.
   */
  detached: boolean;
}

/**
 * Catalog backend `{"kind": "local", "command"?}`: one process per node on a free port, by default
 * the example cluster server. The processes are recorded in the table, so status and destroy work
 * across restarts and nothing is leaked.
 */
export class LocalProcessCompute implements ClusterCompute {
  private readonly started = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly options: LocalComputeOptions,
  ) {}

  async deploy({ cluster, deploymentId, nodes }: Deployment & { nodes: number; version: string }): Promise<void> {
    if (cluster.backend.kind !== 'local') {
      throw new ProvisionerError('backend_unavailable', `${cluster.name} uses the ${cluster.backend.kind} backend, which the local runtime cannot run.`);
    }
    if (await this.store.get(localDeploymentKey(deploymentId))) return;
    const command = cluster.backend.command ?? [process.execPath, '--import', 'tsx', exampleClusterPath];
    const { issuer, jwksUrl } = this.options.api();
    const records: NodeRecord[] = [];
    for (let index = 0; index < nodes; index++) {
      const port = await freePort();
      const output = this.logFile(cluster.name, deploymentId, index);
      const [file = process.execPath, ...args] = command;
      const child = spawn(file, args, {
        cwd: projectRoot,
        detached: this.options.detached,
        stdio: ['ignore', output, output],
        env: {
          ...process.env,
          PORT: String(port),
          CLUSTER: cluster.name,
          VISIBILITY: cluster.visibility,
          NODE_INDEX: String(index),
          PROVISIONER_ISSUER: issuer,
          PROVISIONER_JWKS_URL: jwksUrl,
        },
      });
      child.unref();
      if (typeof output === 'number') closeSync(output);
      if (child.pid === undefined) throw new ProvisionerError('backend_unavailable', `Could not start ${file} for ${cluster.name}.`);
      this.started.add(child.pid);
      records.push({ pid: child.pid, port, started: startTime(child.pid) });
    }
    if (!(await this.store.createIfAbsent({ ...localDeploymentKey(deploymentId), cluster: cluster.name, nodes: records }))) {
      // Another call recorded this deployment first: ours are surplus.
      records.forEach((r) => this.kill(r.pid));
    }
  }

  async status({ deploymentId }: Deployment): Promise<DeploymentStatus> {
    const records = await this.records(deploymentId);
    if (!records) return { state: 'gone', endpoints: [] };
    const endpoints = records.map((r) => `http://127.0.0.1:${r.port}`);
    const dead = records.findIndex((r) => !alive(r));
    if (dead >= 0) return { state: 'failed', endpoints, reason: `node ${dead} exited` };
    const listening = await Promise.all(records.map((r) => accepts(r.port)));
    return { state: listening.every(Boolean) ? 'running' : 'pending', endpoints };
  }

  async destroy({ deploymentId }: Deployment): Promise<void> {
    const records = await this.records(deploymentId);
    if (!records) return;
    records.filter(alive).forEach((r) => this.kill(r.pid));
    await this.store.remove(localDeploymentKey(deploymentId));
  }

  /** Stops the nodes this process started (a `--memory` runtime's shutdown). */
  stopAll(): void {
    this.started.forEach((pid) => this.kill(pid));
  }

  private async records(deploymentId: string): Promise<NodeRecord[] | undefined> {
    return (await this.store.get(localDeploymentKey(deploymentId)))?.nodes as NodeRecord[] | undefined;
  }

  private kill(pid: number): void {
    try {
      // A detached node leads its own process group: signal the whole group.
      process.kill(this.options.detached ? -pid : pid, 'SIGTERM');
    } catch {
      // already gone
    }
    this.started.delete(pid);
  }

  private logFile(cluster: string, deploymentId: string, index: number): 'ignore' | number {
    if (!this.options.logDir) return 'ignore';
    mkdirSync(this.options.logDir, { recursive: true });
    return openSync(join(this.options.logDir, `${cluster}-${deploymentId}-${index}.log`), 'a');
  }
}

/** Whether the recorded node still runs: its pid exists and, where /proc tells, started when ours did. */
function alive(record: NodeRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  return record.started === undefined || startTime(record.pid) === record.started;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name); undefined where there is no /proc. */
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
