/**
 * The Provisioner SDK. `createClient()` reads the configuration (see client/config.ts) and returns
 * namespaced services whose methods mirror the API's operations:
 *
 * ```ts
 * const provisioner = createClient();
 * await provisioner.clusters.deploy('acme-dev', { nodes: 2 });
 * await provisioner.clusters.waitFor('acme-dev', 'running');
 * const { token } = await provisioner.clusters.access('acme-dev');
 * const events = await provisioner.call('cluster-events', { params: { cluster: 'acme-dev' }, query: { limit: 10 } });
 * ```
 *
 * `call` reaches every operation of the route table, typed from its schemas, so a new route is
 * usable before a service method wraps it.
 */
import { createCall } from './call.js';
import { type ClientConfig, loadConfig } from './config.js';
import { clustersService } from './clusters.js';
import { Credentials } from './credentials.js';
import { Session } from './session.js';
import { fileTokenCache } from './token-cache.js';
// workspaces
import { workspacesService } from './workspaces.js';
// workbenches
import { workbenchesService } from './workbenches.js';
// runs
import { runsService } from './runs.js';
// tokens
import { tokensService } from './tokens.js';

export type { Call, CallArgs } from './call.js';
export { ConfigError, type ClientConfig, loadConfig } from './config.js';
export { ProvisionerApiError } from './session.js';
export type * from './types.js';
export { createClusterVerifier, KeysUnavailable, TokenRejected } from '../src/tokens/cluster-verifier.js';
// workspaces
export type { CreateWorkspaceOptions, Workspace, WorkspaceEvent, WorkspaceStatus } from './workspaces.js';
// workbenches
export type { NewWorkbench, Workbench, WorkbenchStatus, WorkbenchWaitOptions } from './workbenches.js';
// tokens
export type { ApiToken, CreatedApiToken, NewApiToken } from './tokens.js';
// runs
export { finalRunStatuses, runEnded, type Run, type RunFilter, type RunKind, type RunStatus, type RunWaitOptions } from './runs.js';

export interface ClientOptions {
  /** Overrides of the loaded configuration. */
  config?: Partial<ClientConfig>;
  env?: NodeJS.ProcessEnv;
  /** Backoff base for retries (tests make it small). */
  retryBaseMs?: number;
}

export function createClient(options: ClientOptions = {}) {
  const env = options.env ?? process.env;
  const config = { ...loadConfig(env), ...options.config };
  // The session asks the credentials for the user JWT; the credentials log in through the session.
  const session: Session = new Session(config, (refused?: string): Promise<string | undefined> => auth.userToken(refused), options.retryBaseMs);
  const auth: Credentials = new Credentials(config, session, env);
  const call = createCall(session);
  return {
    config,
    /** Any operation of the route table by name, typed: `call('get-cluster', { params: { cluster } })`. */
    call,
    auth: {
      login: (githubToken: string) => auth.loginWithGitHubToken(githubToken),
      loginWithGitHubActions: () => auth.loginWithGitHubActions(),
      loginWithDeviceFlow: (prompt: (verificationUri: string, userCode: string) => void) => auth.loginWithDeviceFlow(prompt),
      /** Exchanges an API token (`prv_…`) for a user JWT limited to its scopes. */
      loginWithApiToken: (apiToken: string) => auth.loginWithApiToken(apiToken),
      /** Forgets the cached user JWT (no request). */
      logout: () => auth.logout(),
      /** Revokes the user JWT at the API (POST /v1/logout), then forgets it. */
      logoutEverywhere: () => auth.logoutEverywhere(),
      whoami: () => call('whoami'),
      /** The user JWT the client sends (renewed when close to expiry), or undefined when anonymous. */
      token: () => auth.userToken(),
    },
    clusters: clustersService(session, { cache: fileTokenCache(config.cacheDir), userToken: () => auth.userToken(), url: config.url }),
    // workspaces
    workspaces: workspacesService(session),
    // workbenches
    workbenches: workbenchesService(session),
    // runs
    runs: runsService(session),
    // tokens
    tokens: tokensService(session),
  };
}

export type ProvisionerClient = ReturnType<typeof createClient>;
