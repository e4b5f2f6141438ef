import type { Key } from '../ports.js';

/**
 * Every key of the single table, and nothing else builds one: a new area adds its kind here.
 *
 * A versioned entity (a cluster, later a run, a workbench, a workspace) lives in its own partition
 * `<kind>#<id>`: the head item `state` holds the current version with its latest audit events, and
 * `events#<first version>` items hold older events in chunks, moved there as the head fills.
 */
export type EntityKind = 'cluster' | 'run' | 'workbench' | 'workspace';

const archivePrefix = 'events#';
/** Versions are zero-padded so that the sort key orders them. */
const archiveSort = (firstVersion: number) => `${archivePrefix}${String(firstVersion).padStart(12, '0')}`;

export const entityKeys = {
  head: (kind: EntityKind, id: string): Key => ({ pk: `${kind}#${id}`, sk: 'state' }),
  /** The chunk of archived events that starts at `firstVersion`. */
  archive: (kind: EntityKind, id: string, firstVersion: number): Key => ({ pk: `${kind}#${id}`, sk: archiveSort(firstVersion) }),
  /** The archive chunks holding events older than `version`, newest first. */
  archivesBefore: (kind: EntityKind, id: string, version: number) => ({ partition: `${kind}#${id}`, prefix: archivePrefix, through: archiveSort(Math.max(0, version - 1)) }),
};

/** The status index (`gsi2`): one kind's entities in one status, ordered by when they entered it. */
export const statusIndexKey = (kind: EntityKind, status: string) => `${kind}#${status}`;

/** Secondary-index lists (`gsi1pk`): the local scheduler's queue, the local backend's deployments. */
export const listKeys = {
  schedules: 'schedules',
  localDeployments: 'localdeploys',
};

/** The local scheduler's items: one per schedule, ordered by time on the `schedules` list. */
export const scheduleKeys = {
  item: (name: string): Key => ({ pk: `schedule#${name}`, sk: 'schedule' }),
  order: (at: Date, name: string) => `${at.toISOString()}#${name}`,
};

/** The clusters a caller has deployed and not yet destroyed: the slots their `max_deployments` counts. */
export const deploymentSlotsKey = (sub: string): Key => ({ pk: `deployments#${sub}`, sk: 'slots' });

/** A fixed window's request counter: per subject (a network or a user), per window index. */
export const rateKey = (subject: string, window: number): Key => ({ pk: `rate#${subject}`, sk: String(window) });

/** Where the key rotation publishes the public JWKS for the verifiers. */
export const publishedKeysKey: Key = { pk: 'keys', sk: 'jwks' };

/** The local backend's record of one deployment's node processes. */
export const localDeploymentKey = (deploymentId: string): Key => ({ pk: `localdeploy#${deploymentId}`, sk: 'nodes' });

/** The EC2 backend's instance → cluster map: written at launch, read by drift events, removed at `terminated`. */
export const instanceOwnerKey = (instanceId: string): Key => ({ pk: `instance#${instanceId}`, sk: 'owner' });

// workspaces
/** Workspace lists, the claim that makes a workspace name unique (a set of one id, released by that id) and each owner's slots. */
export const workspaceKeys = {
  /** Every workspace head is on this list, ordered by owner then creation: one Query serves an owner (a prefix) and administrators (all). */
  list: 'workspaces',
  order: (owner: string, createdAt: string, id: string) => `${owner}#${createdAt}#${id}`,
  ownerPrefix: (owner: string) => `${owner}#`,
  name: (name: string): Key => ({ pk: `workspace-name#${name}`, sk: 'claim' }),
  /** The workspaces an owner has and has not deleted: the slots `workspaces.limits` counts. */
  slots: (owner: string): Key => ({ pk: `workspace-slots#${owner}`, sk: 'slots' }),
  /** The local backend's record of one workspace's process. */
  localProcess: (id: string): Key => ({ pk: `localworkspace#${id}`, sk: 'process' }),
};

// workbenches
/** A workbench owner's list (`gsi1pk`, ordered by creation) and the local backend's record of a run's process. */
export const workbenchKeys = {
  owner: (sub: string) => `workbench-owner#${sub}`,
  localRun: (runId: string): Key => ({ pk: `localworkbench#${runId}`, sk: 'process' }),
  /** The owner's workbenches counted by the level's `count` (claimed before a create writes, released on delete). */
  slots: (sub: string): Key => ({ pk: `workbench-slots#${sub}`, sk: 'slots' }),
  /** A pointer per share (`pk` the sharee's lowercase login, `sk` the id), so sharees list what is shared with them. */
  sharedWith: (login: string) => `workbench-shared#${login}`,
  share: (login: string, id: string): Key => ({ pk: `workbench-shared#${login}`, sk: id }),
  /** Every workbench not deleted, one pointer each (`sk` the id): what the janitor re-examines. */
  all: 'workbenches',
  listed: (id: string): Key => ({ pk: 'workbenches', sk: id }),
};

// runs
/** Every run is on one list, ordered by creation time (`gsi1sk` = `<created_at>#<id>`). */
export const runListKeys = {
  all: 'runs',
  order: (createdAt: string, id: string) => `${createdAt}#${id}`,
};
/** The local runner's record of a run's bash process: its work dir, then its pid and start time. */
export const localRunKey = (runId: string): Key => ({ pk: `localrun#${runId}`, sk: 'process' });

// notifications
/** Deliveries a webhook never took (newest last, by time), and the once-only marks of events that must not repeat. */
export const notificationKeys = {
  undelivered: 'notifications#undelivered',
  undeliveredItem: (at: string, delivery: string, host: string): Key => ({ pk: 'notifications#undelivered', sk: `${at}#${delivery}#${host}` }),
  once: (occurrence: string): Key => ({ pk: `notified#${occurrence}`, sk: 'once' }),
};
// tokens
/** API tokens: one item per token, the pointer its secret's hash finds it by, an owner's list and slots. */
export const apiTokenKeys = {
  token: (id: string): Key => ({ pk: `apitoken#${id}`, sk: 'token' }),
  /** Exchange looks a secret up by its SHA-256 only; the item names the token's id. */
  secret: (hash: string): Key => ({ pk: `apitoken-secret#${hash}`, sk: 'token' }),
  /** An owner's tokens (`gsi1pk`), newest first by `gsi1sk` = `<created_at>#<id>`. */
  owner: (sub: string) => `apitoken-owner#${sub}`,
  order: (createdAt: string, id: string) => `${createdAt}#${id}`,
  /** The owner's live tokens, counted against the per-owner limit. */
  slots: (sub: string): Key => ({ pk: `apitoken-slots#${sub}`, sk: 'slots' }),
};
/**
 * The revocation list: revoked API-token ids and logged-out JWT ids, in one partition read with one
 * Query; each item's `ttl` ends it once no JWT it refuses can still be valid.
 */
export const revocationKeys = {
  partition: 'revoked',
  token: (id: string): Key => ({ pk: 'revoked', sk: `token#${id}` }),
  session: (jti: string): Key => ({ pk: 'revoked', sk: `jti#${jti}` }),
};
/** What a person's last interactive login showed (level, organizations): API-token exchanges are capped by it. */
export const userKey = (sub: string): Key => ({ pk: `user#${sub}`, sk: 'profile' });
