import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
// workbenches
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DynamoStore } from '../adapters/aws/dynamo-store.js';
import { GitHubActionsTokens } from '../adapters/github/actions-oidc.js';
import { OctokitGitHubUsers } from '../adapters/github/github-users.js';
import { startLocalDynamo } from '../adapters/local/dynalite.js';
import { DevUsers } from '../adapters/local/dev-users.js';
import { FileKeyVault } from '../adapters/local/file-key-vault.js';
import { LocalProcessCompute } from '../adapters/local/process-compute.js';
import { type Dispatch, StoreScheduler } from '../adapters/local/store-scheduler.js';
import { defaultRules } from '../domain/clusters.js';
import { requestLog } from '../log.js';
import { type LocalConfig, localTableName } from '../config.js';
import { parseCatalog } from '../domain/catalog.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { TokenSettings } from '../ports.js';
import { ensureKeys, VaultKeys } from '../tokens/key-service.js';
import type { Deps } from '../deps.js';
// workspaces
import { LocalProcessWorkspaces } from '../adapters/local/process-workspaces.js';
// workbenches
import { LocalWorkbenchCompute } from '../adapters/local/process-workbenches.js';
// runs
import { LocalBashRunner } from '../adapters/local/bash-runner.js';
import { startLocalRunLogs } from '../adapters/local/run-log-files.js';
import { convergeRun, readRun } from '../operations/runs/use-cases.js';
import { systemCaller } from '../domain/levels.js';
// console
import { GitHubDeviceFlowClient } from '../adapters/github/device-flow.js';
import { BuiltConsoleFiles } from '../adapters/local/console-files.js';
// notifications
import { localWebhookSecret } from '../adapters/local/webhook-secret.js';
import { webhookTiming } from '../operations/notifications/notify.js';

const runFixtures = fileURLToPath(new URL('../../local/fixtures', import.meta.url));

export const exampleCatalogPath = fileURLToPath(new URL('../../catalog/example.json', import.meta.url));

export interface LocalRuntime {
  deps: Deps;
  /** Starts firing schedules (those due while the server was down first) through `dispatch`. */
  startScheduler(dispatch: Dispatch): Promise<void>;
  /** Tells the runtime the URL it is served at: the token issuer unless PROVISIONER_PUBLIC_URL says otherwise. */
  servedAt(url: string): void;
  close(): Promise<void>;
}

export interface LocalRuntimeOptions {
  config: LocalConfig;
  clock?: Clock;
}

/** The local key file: in the data dir, 0600; `--memory` keeps the keys in memory too. */
export function localKeyVault(config: LocalConfig): FileKeyVault {
  return new FileKeyVault(config.PROVISIONER_MEMORY ? undefined : join(config.PROVISIONER_DATA_DIR, 'keys.json'));
}

/**
 * Builds the local adapters once: dynalite (persisted under the data dir, or in memory), a key file,
 * the catalog, GitHub through octokit at the configured base URL. The local server installs the
 * result for every handler.
 */
export async function startLocalRuntime({ config, clock = systemClock }: LocalRuntimeOptions): Promise<LocalRuntime> {
  const catalogPath = config.PROVISIONER_CATALOG ?? exampleCatalogPath;
  const catalog = parseCatalog(readFileSync(catalogPath, 'utf8'), catalogPath);
  let path: string | undefined;
  if (!config.PROVISIONER_MEMORY) {
    path = join(config.PROVISIONER_DATA_DIR, 'dynamodb');
    mkdirSync(path, { recursive: true, mode: 0o700 });
  }
  const vault = localKeyVault(config);
  await ensureKeys(vault, clock);
  // Re-read the key file every few seconds, so `npm run rotate-keys` reaches a running server.
  const keys = new VaultKeys(vault, clock, 5_000);
  const dynamo = await startLocalDynamo({ path, tableName: localTableName });
  // Until the server says where it listens (servedAt), assume the configured port.
  let apiUrl = config.PROVISIONER_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`;
  const tokenSettings: TokenSettings = {
    issuer: apiUrl,
    userTokenTtlSeconds: config.PROVISIONER_USER_TOKEN_TTL,
    clusterTokenTtlSeconds: config.PROVISIONER_CLUSTER_TOKEN_TTL,
  };
  const log = requestLog('local', 'runtime');
  const store = new DynamoStore(dynamo.client, localTableName, clock);
  const scheduler = new StoreScheduler(store, clock, log);
  const compute = new LocalProcessCompute(store, {
    api: () => ({ issuer: tokenSettings.issuer, jwksUrl: `${apiUrl}/.well-known/jwks.json` }),
    logDir: config.PROVISIONER_MEMORY ? undefined : join(config.PROVISIONER_DATA_DIR, 'logs'),
    detached: !config.PROVISIONER_MEMORY,
    owner: config.PROVISIONER_MEMORY ? `memory-${randomUUID()}` : resolve(config.PROVISIONER_DATA_DIR),
  }, clock);
  // workspaces: local processes whatever the catalog's backend (an ECS one cannot run here)
  const workspaceBackend = new LocalProcessWorkspaces(store, {
    command: catalog.workspaces.backend.kind === 'local' ? catalog.workspaces.backend.command : undefined,
    logDir: config.PROVISIONER_MEMORY ? undefined : join(config.PROVISIONER_DATA_DIR, 'logs'),
    detached: !config.PROVISIONER_MEMORY,
  });
  // runs: the logs in a 0700 directory behind signed, expiring links; runs as bash processes that report their end like the S3 event does.
  const runLogDir = config.PROVISIONER_MEMORY ? mkdtempSync(join(tmpdir(), 'provisioner-logs-')) : join(config.PROVISIONER_DATA_DIR, 'run-logs');
  const runLogs = await startLocalRunLogs(runLogDir, clock);
  const runner = new LocalBashRunner({ store, clock, logs: runLogs.logs, fixtures: runFixtures, log, onFinished: async (id, writer, result) => {
    // The same use case as the janitor's: a run still queued gets its machine recorded first; no result is a failure with its reason.
    const actor = { caller: systemCaller('system'), requestId: randomUUID(), log };
    return convergeRun(deps, actor, await readRun(deps, actor, id), { state: 'ended', machine: writer, writer, result });
  } });
  const deps: Deps = {
    clock,
    store,
    catalog,
    tokenSettings,
    publicKeys: keys,
    keyRing: keys,
    githubUsers: config.PROVISIONER_DEV_USERS
      ? new DevUsers(config.PROVISIONER_DEV_USERS, new OctokitGitHubUsers(config.PROVISIONER_GITHUB_API_URL))
      : new OctokitGitHubUsers(config.PROVISIONER_GITHUB_API_URL),
    actionsTokens: new GitHubActionsTokens(config.PROVISIONER_GITHUB_OIDC_ISSUER, config.PROVISIONER_OIDC_AUDIENCE, clock),
    scheduler,
    compute,
    clusterRules: { ...defaultRules, operationTimeoutMs: config.PROVISIONER_OPERATION_TIMEOUT * 1000 },
    // workspaces
    workspaceBackend,
    // workbenches
    workbenchCompute: new LocalWorkbenchCompute(store, {
      command: catalog.workbenches.local.command,
      dataDir: join(config.PROVISIONER_MEMORY ? mkdtempSync(join(tmpdir(), 'provisioner-workbenches-')) : config.PROVISIONER_DATA_DIR, 'workbenches'),
      logDir: config.PROVISIONER_MEMORY ? undefined : join(config.PROVISIONER_DATA_DIR, 'logs'),
      detached: !config.PROVISIONER_MEMORY,
      runtime: config.PROVISIONER_MEMORY ? `memory-${randomUUID()}` : resolve(config.PROVISIONER_DATA_DIR),
    }),
    // runs
    runLogs: runLogs.logs,
    runMachines: runner,
    // console
    githubDevice: new GitHubDeviceFlowClient(config.PROVISIONER_GITHUB_URL, config.PROVISIONER_GITHUB_CLIENT_ID),
    consoleFiles: new BuiltConsoleFiles(),
    // notifications
    webhooks: { secret: localWebhookSecret(config.PROVISIONER_WEBHOOK_SECRET, config.PROVISIONER_MEMORY ? undefined : join(config.PROVISIONER_DATA_DIR, 'webhook-secret')), ...webhookTiming },
  };
  return {
    deps,
    startScheduler: (dispatch) => scheduler.start(dispatch),
    servedAt(url) {
      apiUrl = url;
      if (!config.PROVISIONER_PUBLIC_URL) tokenSettings.issuer = url;
    },
    close: async () => {
      scheduler.stop();
      // Persistent runtimes leave cluster nodes running for the next start to re-adopt.
      if (config.PROVISIONER_MEMORY) compute.stopAll();
      // workspaces
      if (config.PROVISIONER_MEMORY) workspaceBackend.stopAll();
      // workbenches
      if (config.PROVISIONER_MEMORY && deps.workbenchCompute instanceof LocalWorkbenchCompute) deps.workbenchCompute.stopAll();
      // runs: a run still going is stopped (its result still recorded) before the store closes.
      await runner.stopAll();
      await runLogs.close();
      if (config.PROVISIONER_MEMORY) rmSync(runLogDir, { recursive: true, force: true });
      await dynamo.close();
    },
  };
}
