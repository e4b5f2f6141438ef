import type { Catalog } from './domain/catalog.js';
import type { Clock } from './domain/clock.js';
import type { ClusterRules } from './domain/clusters.js';
import type { ActionsTokens, ClusterCompute, GitHubUsers, KeyRing, PublicKeys, Scheduler, Store, TokenSettings } from './ports.js';
// workspaces
import type { WorkspaceBackend } from './ports.js';
// workbenches
import type { WorkbenchCompute } from './ports.js';
import type { RunLogs, RunMachines } from './ports.js';
// console
import type { ConsoleFiles, GitHubDeviceFlow } from './ports.js';
// notifications
import type { Webhooks } from './ports.js';

/**
 * Everything an operation may depend on. A handler names the subset it needs, with one provider per
 * dependency, so a Lambda bundle carries (and a cold start builds) only the clients it uses.
 */
export interface Deps {
  clock: Clock;
  store: Store;
  catalog: Catalog;
  tokenSettings: TokenSettings;
  publicKeys: PublicKeys;
  keyRing: KeyRing;
  githubUsers: GitHubUsers;
  actionsTokens: ActionsTokens;
  scheduler: Scheduler;
  compute: ClusterCompute;
  clusterRules: ClusterRules;
  // workspaces
  workspaceBackend: WorkspaceBackend;
  // workbenches
  workbenchCompute: WorkbenchCompute;
  // runs
  runLogs: RunLogs;
  runMachines: RunMachines;
  // console
  githubDevice: GitHubDeviceFlow;
  consoleFiles: ConsoleFiles;
  // notifications
  webhooks: Webhooks;
}

/** What every authenticated, rate-limited route needs besides its own dependencies. */
export type AuthDeps = Pick<Deps, 'clock' | 'store' | 'catalog' | 'publicKeys' | 'tokenSettings'>;

export type Providers<D> = { [K in keyof D]: () => D[K] | Promise<D[K]> };

let installed: Deps | undefined;

/**
 * The local server and the tests install a whole runtime (dynalite store, local adapters); a handler
 * then ignores its AWS providers. In Lambda nothing is installed and the providers are used.
 */
export function installRuntime(deps: Deps | undefined): void {
  installed = deps;
}

/** Resolves a handler's dependencies once per warm container; a failed resolution is retried next time. */
export function dependencies<D>(providers: Providers<D>): () => Promise<D> {
  let cached: Promise<D> | undefined;
  return () => {
    if (installed) return Promise.resolve(installed as unknown as D);
    cached ??= resolveAll(providers).catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

async function resolveAll<D>(providers: Providers<D>): Promise<D> {
  const entries = await Promise.all(Object.entries(providers).map(async ([name, provide]) => [name, await (provide as () => unknown)()]));
  return Object.fromEntries(entries) as D;
}
