import type { WorkspaceBackend, WorkspaceLaunch, WorkspaceStatus } from '../../src/ports.js';

/** A workspace backend that records its calls and reports whatever state the test sets. */
export class FakeWorkspaces implements WorkspaceBackend {
  readonly launched: WorkspaceLaunch[] = [];
  readonly deleted: string[] = [];
  readonly retagged: { id: string; expiresAt: string }[] = [];
  private readonly states = new Map<string, WorkspaceStatus>();
  failCreate = false;

  async create(launch: WorkspaceLaunch): Promise<void> {
    if (this.failCreate) throw new Error('no capacity');
    this.launched.push(launch);
    if (!this.states.has(launch.id)) this.states.set(launch.id, { state: 'pending' });
  }

  async status(id: string): Promise<WorkspaceStatus> {
    return this.states.get(id) ?? { state: 'gone' };
  }

  async retag(id: string, expiresAt: string): Promise<void> {
    this.retagged.push({ id, expiresAt });
  }

  async delete(id: string): Promise<void> {
    this.deleted.push(id);
    this.states.delete(id);
  }

  set(id: string, status: WorkspaceStatus): void {
    this.states.set(id, status);
  }

  launch(id: string): WorkspaceLaunch {
    const found = this.launched.find((l) => l.id === id);
    if (!found) throw new Error(`workspace ${id} was never launched`);
    return found;
  }
}
