import type { ClusterCompute, Deployment, DeploymentStatus, SweptDeployment } from '../../src/ports.js';

/** A backend that counts its calls and reports whatever state the test sets. */
export class FakeCompute implements ClusterCompute {
  readonly deployed: { cluster: string; deploymentId: string; nodes: number; version: string; repair?: string }[] = [];
  readonly destroyed: string[] = [];
  private readonly states = new Map<string, DeploymentStatus>();
  failDeploy = false;
  /** The backend refuses to destroy (an API error, throttling). */
  failDestroy = false;
  /** Like the local backend: a read of a running cluster asks `status`, so a lost node shows as drift. */
  driftOnRead = false;

  async deploy(d: Deployment & { nodes: number; version: string; repair?: string }): Promise<void> {
    if (this.failDeploy) throw new Error('capacity');
    this.deployed.push({ cluster: d.cluster.name, deploymentId: d.deploymentId, nodes: d.nodes, version: d.version, ...(d.repair && { repair: d.repair }) });
    if (!this.states.has(d.deploymentId) || d.repair) this.states.set(d.deploymentId, { state: 'pending', endpoints: [] });
  }

  async status(d: Deployment): Promise<DeploymentStatus> {
    return this.states.get(d.deploymentId) ?? { state: 'gone', endpoints: [] };
  }

  async destroy(d: Deployment): Promise<void> {
    if (this.failDestroy) throw new Error('RequestLimitExceeded');
    this.destroyed.push(d.deploymentId);
    // Terminating takes a while: still there until the test says it is gone.
    const state = this.states.get(d.deploymentId)?.state;
    if (state !== undefined && state !== 'gone') this.states.set(d.deploymentId, { state: 'pending', endpoints: [] });
  }

  /** Forgets (and reports) every deployment not in `active`, as a janitor would terminate it. */
  async sweep(active: ReadonlySet<string>): Promise<SweptDeployment[]> {
    const swept = this.deployed.filter((d) => !active.has(d.deploymentId) && this.states.get(d.deploymentId)?.state !== 'gone');
    for (const d of swept) this.states.set(d.deploymentId, { state: 'gone', endpoints: [] });
    return swept.map((d) => ({ cluster: d.cluster, deploymentId: d.deploymentId }));
  }

  /** The latest deployment of a cluster. */
  latest(cluster: string): string {
    const found = this.deployed.filter((d) => d.cluster === cluster).at(-1);
    if (!found) throw new Error(`no deployment of ${cluster}`);
    return found.deploymentId;
  }

  set(cluster: string, state: DeploymentStatus['state'], endpoints: string[] = [], reason?: string): void {
    this.states.set(this.latest(cluster), { state, endpoints, ...(reason && { reason }) });
  }
}
