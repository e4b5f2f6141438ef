/**
 * The Provisioner SDK. `createClient()` reads the configuration (see client/config.ts) and returns
 * namespaced services whose methods mirror the API's operations:
 *
 * ```ts
 * const provisioner = createClient();
 * await provisioner.clusters.deploy('acme-dev', { nodes: 2 });
 * await provisioner.clusters.waitFor('acme-dev', 'running');
 * const { token } = await provisioner.clusters.access('acme-dev');
 * ```
 */
import { type ClientConfig, loadConfig } from './config.js';
import { clustersService } from './clusters.js';
import { Credentials } from './credentials.js';
import { Session } from './session.js';
import { fileTokenCache } from './token-cache.js';
import type { Identity } from './types.js';

export { ConfigError, type ClientConfig, loadConfig } from './config.js';
export { ProvisionerApiError } from './session.js';
export type * from './types.js';
export { createClusterVerifier, TokenRejected } from '../src/tokens/cluster-verifier.js';

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
  const session: Session = new Session(config, (): Promise<string | undefined> => auth.userToken(), options.retryBaseMs);
  const auth: Credentials = new Credentials(config, session, env);
  return {
    config,
    auth: {
      login: (githubToken: string) => auth.loginWithGitHubToken(githubToken),
      loginWithGitHubActions: () => auth.loginWithGitHubActions(),
      loginWithDeviceFlow: (prompt: (verificationUri: string, userCode: string) => void) => auth.loginWithDeviceFlow(prompt),
      logout: () => auth.logout(),
      whoami: () => session.request<Identity>('GET', '/v1/whoami'),
      /** The user JWT the client sends (renewed when close to expiry), or undefined when anonymous. */
      token: () => auth.userToken(),
    },
    clusters: clustersService(session, { cache: fileTokenCache(config.cacheDir), userToken: () => auth.userToken(), url: config.url }),
  };
}

export type ProvisionerClient = ReturnType<typeof createClient>;
