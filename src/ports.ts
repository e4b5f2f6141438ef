/**
 * The small interfaces the domain needs. Adapters implement them (src/adapters/aws, src/adapters/local);
 * tests pass dynalite-backed or tiny fake ones.
 */
import type { JSONWebKeySet } from 'jose';
import type { IndexName } from './store/table.js';
import type { KeySet, SigningKey } from './tokens/keys.js';
import type { ClusterEntry } from './domain/catalog.js';
import type { ScheduleTarget, TargetInput } from './scheduling/targets.js';
// workbenches
import type { TaskState } from './domain/workbenches.js';
import type { ScriptInput } from './domain/run-script.js';

export interface Key {
  pk: string;
  sk: string;
}

/** Every stored item: its key, an optimistic-lock version, and attributes. */
export interface StoredItem extends Key {
  version: number;
  gsi1pk?: string;
  gsi1sk?: string;
  /** Expiry in epoch seconds; an expired item reads as absent. */
  ttl?: number;
  [attribute: string]: unknown;
}

export type NewItem = Omit<StoredItem, 'version'>;

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface QueryOptions {
  /** Query the main table by `pk` (default) or a secondary index by its partition key. */
  index?: IndexName;
  partition: string;
  /** Only sort keys that start with this. */
  prefix?: string;
  /** With `prefix`: only sort keys from the prefix up to this one, inclusive. */
  through?: string;
  /** Instead of `prefix`: only sort keys from `from` and/or up to `to`, inclusive. */
  range?: { from?: string; to?: string };
  limit: number;
  nextToken?: string;
  newestFirst?: boolean;
}

/** What a state transition expects to find; a mismatch means another request won. */
export interface Expected {
  version: number;
  status?: string;
}

export interface Store {
  get(key: Key): Promise<StoredItem | undefined>;
  /** Writes `item` (version 1) unless an unexpired item has its key; false when one does. */
  createIfAbsent(item: NewItem): Promise<boolean>;
  /**
   * One conditional write: applies `changes` (undefined removes an attribute) and bumps the version,
   * only if the item still has the expected version and status. Undefined when it lost the race.
   */
  transition(key: Key, expected: Expected, changes: Record<string, unknown>): Promise<StoredItem | undefined>;
  /** Deletes the item if it still has the expected version; false when it lost the race. */
  remove(key: Key, expected?: Expected): Promise<boolean>;
  query(options: QueryOptions): Promise<Page<StoredItem>>;
  /** How many items a query would return (DynamoDB's `Select: COUNT`, every page; reads no attributes back). */
  count(options: Omit<QueryOptions, 'limit' | 'nextToken' | 'newestFirst'>): Promise<number>;
  /** Atomically adds `by` to the item's `count` (creating it with `ttl`); returns the new count. */
  increment(key: Key, by: number, ttl: number): Promise<number>;
  /** Overwrites the item: only for derived data with a single writer (e.g. the published JWKS). */
  put(item: NewItem): Promise<void>;
  /**
   * Adds `member` to the item's set of `members` if the set has fewer than `max` (or already holds
   * it): one conditional write, so concurrent claims never exceed `max`. `members` maps each member
   * to when it was claimed (so a caller can tell a stale slot from one whose request is on its way).
   */
  claim(key: Key, member: string, max: number, at: Date): Promise<{ won: boolean; members: Record<string, string> }>;
  /** Removes `member` from the item's set; one absent counts as done. */
  release(key: Key, member: string): Promise<void>;
}

/** Where the private signing keys live: Secrets Manager in AWS, a 0600 file locally. */
export interface KeyVault {
  read(): Promise<KeySet | undefined>;
  write(keys: KeySet): Promise<void>;
}

/** Where the key rotation publishes the public keys for the verifiers (the table in AWS). */
export interface KeyPublisher {
  publish(jwks: JSONWebKeySet): Promise<void>;
}

/** The key that signs now. */
export interface KeyRing {
  signingKey(): Promise<SigningKey>;
}

/** The public keys that verify; `fresh` asks to bypass a cache (once, for an unknown `kid`). */
export interface PublicKeys {
  jwks(fresh: boolean): Promise<JSONWebKeySet>;
}

/** A GitHub user as a GitHub token shows them. */
export interface GitHubAccount {
  login: string;
  /** Those of the asked organizations the user is an active member of. */
  orgs: string[];
  /** Active member of the admin team. */
  teamMember: boolean;
}

export interface GitHubUsers {
  /** Throws ProvisionerError `invalid_github_token` or `github_unavailable`. */
  lookup(token: string, orgs: string[], adminTeam: { org: string; team: string } | undefined): Promise<GitHubAccount>;
}

/** What GitHub hands out to start a device login: the code the user enters, and where. */
export interface DeviceCode {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  /** Seconds between polls. */
  interval: number;
  /** Seconds the code stays valid. */
  expiresIn: number;
}

/**
 * GitHub's device flow for the configured OAuth app, on behalf of a browser (which cannot call
 * GitHub's token endpoint itself). Throws ProvisionerError `device_flow_not_configured` without an
 * app, `github_unavailable` when GitHub cannot be reached.
 */
export interface GitHubDeviceFlow {
  start(): Promise<DeviceCode>;
  /**
   * Asks GitHub once whether the user has entered the code: the GitHub user token when they have;
   * otherwise throws `authorization_pending`, `slow_down`, `device_code_expired`,
   * `device_flow_denied` or `invalid_device_code`.
   */
  poll(deviceCode: string): Promise<string>;
}

/** The web console's built files by name (index.html and its hashed assets), the same bytes in both runtimes. */
export interface ConsoleFiles {
  files(): Promise<ReadonlyMap<string, string>>;
}

/** The claims of a verified GitHub Actions OIDC token that policy looks at. */
export interface ActionsClaims {
  repository: string;
  repositoryOwner: string;
  /** GitHub's id of the repository: unlike its name, it does not pass to a repository renamed or re-created in its place. */
  repositoryId?: string;
  ref: string;
}

export interface ActionsTokens {
  /** Throws ProvisionerError `invalid_oidc_token` or `github_unavailable`. */
  verify(token: string): Promise<ActionsClaims>;
}

/** Settings of the token service. */
export interface TokenSettings {
  /** The API's issuer URL: `iss` of every token it signs. */
  issuer: string;
  userTokenTtlSeconds: number;
  clusterTokenTtlSeconds: number;
}

/** A one-time call of a target of the schedule-target table, with that target's input. */
export type ScheduledCall = {
  [T in ScheduleTarget]: {
    /** Unique per schedule; derived from the resource and the purpose. */
    name: string;
    at: Date;
    target: T;
    payload: TargetInput<T>;
  };
}[ScheduleTarget];

/** One-time timed calls: EventBridge Scheduler in AWS, the table and a timer locally. */
export interface Scheduler {
  /** Creates the schedule; one that already exists under that name counts as done. */
  schedule(call: ScheduledCall): Promise<void>;
  /** Deletes the schedule; one already gone counts as done. */
  cancel(name: string): Promise<void>;
}

export interface Deployment {
  cluster: ClusterEntry;
  deploymentId: string;
}

export interface DeploymentStatus {
  /**
   * pending: on its way; running: every node up; failed: it could not start; degraded: it ran, and a
   * node has since died; gone: nothing left.
   */
  state: 'pending' | 'running' | 'failed' | 'degraded' | 'gone';
  endpoints: string[];
  reason?: string;
}

/** What the janitor removed: a deployment no cluster knows any more. */
export interface SweptDeployment {
  /** The cluster its resources were tagged with (unknown when the tag is missing). */
  cluster?: string;
  deploymentId: string;
}

/** Which deployment a machine belongs to: drift events name only the machine. */
export interface MachineOwners {
  ownerOf(machineId: string): Promise<{ cluster: string; deploymentId: string } | undefined>;
  /**
   * Why the deployment serves fewer than its `nodes` now, or undefined when all of them serve: an
   * event arrives late (a repair's replaced machine terminating after the repair is done), so it is
   * checked against what runs before it degrades anything.
   */
  lost(deployment: Deployment & { nodes: number }): Promise<string | undefined>;
  /** Forgets a machine that is gone for good (its last event came): its owner is never asked again. */
  forget(machineId: string): Promise<void>;
}

/** The machines of a cluster: EC2 instances in AWS, local processes on this machine. */
export interface ClusterCompute {
  /**
   * Starts the nodes at `version`; calling it again for the same deployment starts nothing new. With
   * `repair` (an id per repair, so a retried call starts nothing new either), starts only the nodes
   * the deployment lost, replacing any that stopped.
   */
  deploy(deployment: Deployment & { nodes: number; version: string; repair?: string }): Promise<void>;
  /**
   * True when a read of a running cluster should ask `status` for drift (cheap locally); a backend
   * without it reports drift by events instead (EC2 instance state changes).
   */
  readonly driftOnRead?: boolean;
  /**
   * With `nodes` (a repair), fewer nodes serving than that is `degraded`: a backend that forgets a
   * terminated machine would otherwise call a repair done before its new nodes exist.
   */
  status(deployment: Deployment & { nodes?: number }): Promise<DeploymentStatus>;
  /** Stops every node of the deployment; nothing left counts as done. */
  destroy(deployment: Deployment): Promise<void>;
  /**
   * The janitor: removes every resource carrying the project's tags whose deployment is not in
   * `active` and that was created before `createdBefore` (so a deploy under way is never swept).
   * Returns the deployments it removed resources of.
   */
  sweep(active: ReadonlySet<string>, createdBefore: Date): Promise<SweptDeployment[]>;
}

// workspaces
/** What a workspace backend starts: one workspace's components at their versions, with its environment. */
export interface WorkspaceLaunch {
  id: string;
  name: string;
  owner: string;
  expiresAt: string;
  /** Component → version; components with an image run as containers tagged with it. */
  versions: Record<string, string>;
  /** The merged values as environment variables. */
  environment: Record<string, string>;
}

export interface WorkspaceStatus {
  /** pending: on its way (or going away); running: serving at host:port; failed: will not run; gone: nothing left. */
  state: 'pending' | 'running' | 'failed' | 'gone';
  host?: string;
  port?: number;
  reason?: string;
}

/** Where workspaces run: an ECS service each in AWS, a local process each on this machine. */
export interface WorkspaceBackend {
  /** Starts the workspace; calling it again for the same id starts nothing new. */
  create(launch: WorkspaceLaunch): Promise<void>;
  status(id: string): Promise<WorkspaceStatus>;
  /** Records a new expiry where the backend shows it (the AWS tags); optional. */
  retag?(id: string, expiresAt: string): Promise<void>;
  /** Stops and removes the workspace; nothing left counts as done. */
  delete(id: string): Promise<void>;
}

// workbenches
/** One run of a workbench, with everything a backend needs to start, find, stop or remove it. */
export interface WorkbenchTask {
  workbenchId: string;
  /** New for every start; the backend finds the run's task by it. */
  runId: string;
  name: string;
  /** The owner's subject and login (the endpoint template and the task's tags name them). */
  owner: string;
  ownerLogin?: string;
  cpu: number;
  memory: number;
  gpu: number;
  capacityProvider: string;
  dedicatedInstance: boolean;
  /** The ECS task the run's start returned, once recorded (status and stop then ask for exactly it). */
  taskArn?: string;
}

/** What a start did: the task it started (its ARN, where the backend has one), or the dedicated instance it waits for to register. */
export interface WorkbenchStarted {
  taskArn?: string;
  pendingInstance?: string;
}

/** What a backend reports about a run: its task's state, why it stopped, where it answers. */
export interface WorkbenchTaskStatus {
  state: TaskState;
  reason?: string;
  endpoint?: string;
}

/** The containers of workbenches: ECS tasks (and dedicated EC2 instances) in AWS, processes locally. */
export interface WorkbenchCompute {
  /** Starts the run's task; calling it again for the same run starts nothing new. */
  start(task: WorkbenchTask): Promise<WorkbenchStarted>;
  status(task: WorkbenchTask): Promise<WorkbenchTaskStatus>;
  /** Stops the run's task (and the dedicated instance); the data stays. Nothing running counts as done. */
  stop(task: WorkbenchTask): Promise<void>;
  /** Stops the task, removes the workbench's data and terminates its dedicated instance. */
  remove(task: WorkbenchTask): Promise<void>;
  /**
   * The janitor's sweep, where the backend can list what it runs: stops every run not in `live`
   * that started before `startedBefore` (a start under way is never swept); returns the run ids stopped.
   */
  sweep?(live: ReadonlySet<string>, startedBefore: Date): Promise<string[]>;
}

// runs
/** Where runs keep their logs and results (`runs/<id>/...`): S3 in AWS, an in-process S3 server locally. */
export interface RunLogs {
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** The object's text; undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  /** A presigned GET of the object, valid `seconds`. */
  presignGet(key: string, seconds: number): Promise<string>;
}

/** What a runner needs to start a run's machine. */
export interface RunLaunch {
  runId: string;
  script: ScriptInput;
  instanceType: string;
  /** The public SSM parameter naming the AMI. */
  amiParameter: string;
  timeLimitMs: number;
  /** The root volume's size in GB (the catalog's `runs.volume_gb`; the runner's default when absent). */
  volumeGb?: number;
}

/**
 * A started machine and the writer whose files under the run's prefix count (`runKeys`), or the
 * cloud's refusal (no spot capacity) as the run's reason.
 */
export type LaunchOutcome = { machine: string; writer: string } | { refused: string };

/** The throw-away machines of runs: spot EC2 instances in AWS, bash processes locally. */
export interface RunMachines {
  /** Starts the run's machine with its script; a retry for the same run starts nothing new. */
  launch(launch: RunLaunch): Promise<LaunchOutcome>;
  /** Ends the run's machine; one already gone counts as done. */
  stop(runId: string, machine?: string): Promise<void>;
  /**
   * What became of a run's machine, for the janitor to converge a run a crash left unfinished
   * (the local runner; in AWS the S3 event and the run's timeout do).
   */
  inspect?(runId: string): Promise<RunMachineState>;
  /** Every run machine still alive, by its run (the janitor stops those whose run ended); absent where machines cannot outlive the process. */
  alive?(): Promise<{ runId: string; machine: string }[]>;
}

/**
 * A run's machine as its runner finds it: being started or watched here (it reports the end
 * itself); running (and watched from now on); ended, its files uploaded (`result`: whether it left
 * `result.json`; no writer when it never got a process); or none recorded, and none started since
 * `since`.
 */
export type RunMachineState =
  | { state: 'handled' }
  | { state: 'running'; machine: string; writer: string }
  | { state: 'ended'; machine?: string; writer?: string; result: boolean }
  | { state: 'none'; since: Date };

// notifications
/** How webhooks are reached: the signing secret (Secrets Manager in AWS, an environment variable or 0600 file locally) and the retry timing. */
export interface Webhooks {
  /** The HMAC key every delivery is signed with; never logged. */
  secret(): Promise<string>;
  /** Waits before the 2nd, 3rd, ... attempt (their count is the attempts after the first). */
  retryDelaysMs: readonly number[];
  /** One attempt's limit: a receiver that hangs is cut off. */
  attemptTimeoutMs: number;
}
