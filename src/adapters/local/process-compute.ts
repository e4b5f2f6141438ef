import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, systemClock } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import type { ClusterCompute, Deployment, DeploymentStatus, Store, SweptDeployment } from '../../ports.js';
import { listKeys, localDeploymentKey } from '../../store/keys.js';
import { accepts, alive, freePort, processEnvironments, type ProcessRecord, startTime } from './processes.js';

export const exampleClusterPath = fileURLToPath(new URL('../../../local/example-cluster.ts', import.meta.url));
const projectRoot = dirname(dirname(exampleClusterPath));

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
  /**
   * Which runtime the nodes belong to (the data dir, or a random id in memory): a sweep kills only
   * its own runtime's untracked nodes, never those of another `npm start` or test on this machine.
   */
  owner: string;
}

/** The environment variables that tag every node process with its deployment and runtime (what EC2 tags are in AWS). */
const deploymentTag = 'PROVISIONER_DEPLOYMENT';
const ownerTag = 'PROVISIONER_RUNTIME';

/**
 * Catalog backend `{"kind": "local", "command"?}`: one process per node on a free port, by default
 * the example cluster server. The deployment's intent is recorded before any node starts, each
 * node is recorded as it starts, and every node carries its deployment in its environment, so a
 * destroy (or a sweep after a crash) finds every process of a deployment, recorded or not.
 * Nodes start in the background, one at a time and at a lower priority, so a big deploy never
 * stalls the API that runs it.
 */
export class LocalProcessCompute implements ClusterCompute {
  /** Asking is cheap here (a record and a signal 0 per node), so a read finds a node that exited. */
  readonly driftOnRead = true;
  private readonly started = new Set<number>();
  /** Deployments whose nodes this process is starting now; a destroy cancels and waits for them. */
  private readonly starting = new Map<string, { cancelled: boolean; done: Promise<void> }>();

  constructor(
    private readonly store: Store,
    private readonly options: LocalComputeOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  async deploy({ cluster, deploymentId, nodes, version, repair }: Deployment & { nodes: number; version: string; repair?: string }): Promise<void> {
    if (cluster.backend.kind !== 'local') {
      throw new ProvisionerError('backend_unavailable', `${cluster.name} uses the ${cluster.backend.kind} backend, which the local runtime cannot run.`);
    }
    const command = cluster.backend.command ?? [process.execPath, '--import', 'tsx', exampleClusterPath];
    let start: { indices: number[]; records: ProcessRecord[]; recordVersion: number };
    if (repair) {
      const record = await this.store.get(localDeploymentKey(deploymentId));
      // Destroyed meanwhile, or a start (or repair) already on its way.
      if (!record || this.starting.has(deploymentId)) return;
      const records = [...(record.nodes as ProcessRecord[])];
      const indices = Array.from({ length: nodes }, (_, index) => index).filter((index) => !records[index] || !alive(records[index]));
      start = { indices, records, recordVersion: record.version };
    } else {
      const intent = { ...localDeploymentKey(deploymentId), gsi1pk: listKeys.localDeployments, gsi1sk: deploymentId, cluster: cluster.name, wanted: nodes, nodes: [], complete: false, created_at: this.clock.now().toISOString() };
      if (!(await this.store.createIfAbsent(intent))) return; // recorded already: this deployment is on its way
      start = { indices: Array.from({ length: nodes }, (_, index) => index), records: [], recordVersion: 1 };
    }
    const run = { cancelled: false, done: Promise.resolve() };
    run.done = this.startNodes(run, cluster.name, cluster.visibility, deploymentId, version, command, start).finally(() => this.starting.delete(deploymentId));
    this.starting.set(deploymentId, run);
  }

  /** Starts the nodes at `indices` (all of them, or those a repair replaces), recording each as it starts. */
  private async startNodes(
    run: { cancelled: boolean },
    cluster: string,
    visibility: string,
    deploymentId: string,
    version: string,
    command: string[],
    start: { indices: number[]; records: ProcessRecord[]; recordVersion: number },
  ): Promise<void> {
    const { issuer, jwksUrl } = this.options.api();
    const key = localDeploymentKey(deploymentId);
    const records = start.records;
    let recordVersion = start.recordVersion;
    try {
      for (const index of start.indices) {
        if (run.cancelled) break;
        const port = await freePort();
        const output = this.logFile(cluster, deploymentId, index);
        const [file = process.execPath, ...args] = command;
        const child = spawn(file, args, {
          cwd: projectRoot,
          detached: this.options.detached,
          stdio: ['ignore', output, output],
          env: {
            ...process.env,
            PORT: String(port),
            CLUSTER: cluster,
            CLUSTER_VERSION: version,
            VISIBILITY: visibility,
            NODE_INDEX: String(index),
            PROVISIONER_ISSUER: issuer,
            PROVISIONER_JWKS_URL: jwksUrl,
            [deploymentTag]: deploymentId,
            [ownerTag]: this.options.owner,
          },
        });
        child.unref();
        if (typeof output === 'number') closeSync(output);
        if (child.pid === undefined) throw new Error(`could not start ${file}`);
        lowerPriority(child.pid);
        this.started.add(child.pid);
        records[index] = { pid: child.pid, port, started: startTime(child.pid) };
        const written = await this.store.transition(key, { version: recordVersion }, { nodes: records });
        if (!written) break; // the record is gone: destroyed meanwhile
        recordVersion = written.version;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!run.cancelled) await this.store.transition(key, { version: recordVersion }, { complete: true });
    } catch (error) {
      await this.store.transition(key, { version: recordVersion }, { complete: true, failure: (error as Error).message }).catch(() => undefined);
    }
  }

  async status({ deploymentId }: Deployment): Promise<DeploymentStatus> {
    const record = await this.store.get(localDeploymentKey(deploymentId));
    if (!record) return { state: 'gone', endpoints: [] };
    const records = record.nodes as ProcessRecord[];
    const endpoints = records.map((r) => `http://127.0.0.1:${r.port}`);
    if (this.starting.has(deploymentId)) return { state: 'pending', endpoints };
    if (typeof record.failure === 'string') return { state: 'failed', endpoints, reason: `a node could not start: ${record.failure}` };
    if (record.complete !== true) return { state: 'failed', endpoints, reason: 'the local runtime stopped while its nodes were starting' };
    const dead = records.findIndex((r) => !alive(r));
    if (dead >= 0) return { state: 'degraded', endpoints, reason: `node ${dead} exited` };
    const listening = await Promise.all(records.map((r) => accepts(r.port)));
    return { state: listening.every(Boolean) ? 'running' : 'pending', endpoints };
  }

  /** Stops every process of the deployment — the recorded ones and any that carry its tag — then forgets it. */
  async destroy({ deploymentId }: Deployment): Promise<void> {
    const run = this.starting.get(deploymentId);
    if (run) {
      run.cancelled = true;
      await run.done;
    }
    const record = await this.store.get(localDeploymentKey(deploymentId));
    ((record?.nodes as ProcessRecord[] | undefined) ?? []).filter(alive).forEach((r) => this.kill(r.pid));
    taggedProcesses(new Set([deploymentId])).forEach(({ pid }) => this.kill(pid, false));
    await this.store.remove(localDeploymentKey(deploymentId));
  }

  /**
   * The janitor's sweep: destroys every recorded deployment not in `active` that was created before
   * `createdBefore` (a deploy that starts meanwhile is never swept), and kills tagged processes
   * whose deployment has no record at all. Returns what it removed.
   */
  async sweep(active: ReadonlySet<string>, createdBefore: Date): Promise<SweptDeployment[]> {
    const removed: SweptDeployment[] = [];
    const recorded = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.store.query({ index: 'gsi1', partition: listKeys.localDeployments, limit: 100, nextToken });
      for (const item of page.items) {
        const id = String(item.gsi1sk);
        recorded.add(id);
        if (active.has(id) || this.starting.has(id) || String(item.created_at ?? '') >= createdBefore.toISOString()) continue;
        await this.destroy({ deploymentId: id } as Deployment);
        removed.push({ deploymentId: id, cluster: String(item.cluster) });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    for (const { pid, deploymentId } of taggedProcesses(undefined, this.options.owner)) {
      if (recorded.has(deploymentId) || active.has(deploymentId) || this.starting.has(deploymentId)) continue;
      this.kill(pid, false);
      if (!removed.some((r) => r.deploymentId === deploymentId)) removed.push({ deploymentId });
    }
    return removed;
  }

  /** Stops the nodes this process started, and those it is starting (a `--memory` runtime's shutdown). */
  stopAll(): void {
    this.starting.forEach((run) => (run.cancelled = true));
    this.started.forEach((pid) => this.kill(pid));
  }

  private kill(pid: number, group = this.options.detached): void {
    try {
      // A detached node leads its own process group: signal the whole group.
      process.kill(group ? -pid : pid, 'SIGTERM');
    } catch {
      // already gone
    }
    this.started.delete(pid);
  }

  private logFile(cluster: string, deploymentId: string, index: number): 'ignore' | number {
    if (!this.options.logDir) return 'ignore';
    mkdirSync(this.options.logDir, { recursive: true, mode: 0o700 });
    return openSync(join(this.options.logDir, `${cluster}-${deploymentId}-${index}.log`), 'a', 0o600);
  }
}

/** Node processes start at a lower priority than the API, so the API stays responsive while many start. */
function lowerPriority(pid: number): void {
  try {
    setPriority(pid, 10);
  } catch {
    // not permitted here: start at the same priority
  }
}

/** Processes carrying a deployment tag (those of `only`, or all of `owner`'s), found in /proc; none where there is no /proc. */
function taggedProcesses(only?: ReadonlySet<string>, owner?: string): { pid: number; deploymentId: string }[] {
  return processEnvironments().flatMap(({ pid, variables }) => {
    const deploymentId = variables.get(deploymentTag);
    if (!deploymentId || (only && !only.has(deploymentId))) return [];
    if (owner !== undefined && variables.get(ownerTag) !== owner) return [];
    return [{ pid, deploymentId }];
  });
}
