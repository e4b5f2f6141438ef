import { clusterStatuses, visibilities } from '../domain/clusters.js';
import { durationPattern, durationRule } from '../domain/duration.js';
import { errorCodes } from '../domain/errors.js';
import { resourceNamePattern, resourceNameRule } from '../domain/names.js';
import { levels } from '../domain/levels.js';
import { isSafeRef, refRule, runKinds, runStatuses, stepStatuses } from '../domain/runs.js';
import { once } from '../once.js';
import * as z from '../zod.js';
// workspaces
import { valueKeyPattern, valueKeyRule, versionPattern, versionRule, workspaceValue } from '../domain/catalog/workspaces.js';
import { expiryAt, expiryRule, workspaceIdPattern, workspaceStatuses } from '../domain/workspaces.js';
// workbenches
import { workbenchStatuses } from '../domain/workbenches.js';
// tokens
import { apiTokenIdPattern, apiTokenPattern, apiTokenScopes } from '../domain/api-tokens.js';

/**
 * The API's schemas. Field names are snake_case, as in API.md.
 *
 * Each is built on its first use, then kept: a function builds only the few its own route reads
 * (its input; responses are for OpenAPI and the tests). Building all of them at module load took
 * ≈5 ms of every cold start (issue 9).
 */

export const errorBody = once(() => z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
}));

export const level = once(() => z.enum(levels));

export const identity = once(() => z.object({
  login: z.nullable(z.string()),
  level: level(),
  orgs: z.array(z.string()),
  // tokens: present only for a session from an API token (POST /v1/login {"api_token"})
  scopes: z.optional(z.array(apiTokenScope())),
  clusters: z.optional(z.array(z.string())),
}));

export const health = once(() => z.object({ status: z.literal('ok'), version: z.string(), time: z.iso.datetime() }));

/** `?limit=&next_token=` on every list. */
export const pageQuery = once(() => z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 25),
  next_token: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
}));

/** A page of a list: the schema of its items, built with the page. */
export function page<T extends z.ZodMiniType>(item: () => T) {
  return once(() => z.object({ items: z.array(item()), next_token: z.optional(z.string()) }));
}

/** Anything JSON: the OpenAPI document is described by its own standard, not here. */
export const jsonDocument = once(() => z.record(z.string(), z.unknown()));

export const clusterName = once(() => z.string().check(z.regex(resourceNamePattern, `must be a cluster name: ${resourceNameRule}`)));
export const clusterParams = once(() => z.object({ cluster: clusterName() }));

/** Tokens are printable ASCII: a control character or a space is bad input, not a GitHub failure to retry. */
const secretToken = once(() => z.string().check(z.minLength(1), z.maxLength(8192), z.regex(/^[\x21-\x7e]+$/, 'must be printable characters only (no spaces or control characters)')));

/** Exactly one of the credentials; none is ever echoed in an error. */
export const loginBody = once(() => z
  .object({ github_token: z.optional(secretToken()), oidc_token: z.optional(secretToken()), api_token: z.optional(secretToken()) })
  .check(
    z.refine((body) => [body.github_token, body.oidc_token, body.api_token].filter((token) => token !== undefined).length === 1, {
      message: 'send exactly one of github_token (a GitHub user token), oidc_token (a GitHub Actions OIDC token) or api_token (a Provisioner API token, prv_...)',
    }),
  ));

export const loginResponse = once(() => z.object({
  token: z.string(),
  token_type: z.literal('Bearer'),
  expires_at: z.iso.datetime(),
  user: identity(),
}));

// device login (the console)
export const deviceCode = once(() => z.object({
  device_code: z.string(),
  user_code: z.string(),
  verification_uri: z.string(),
  /** Seconds to wait between polls of /v1/login/device/token. */
  interval: z.number(),
  expires_in: z.number(),
}));
export const deviceTokenBody = once(() => z.strictObject({ device_code: z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^[\x21-\x7e]+$/, 'must be printable characters only')) }));

// console: its files by name (letters, digits, dots, dashes: never a path)
export const consoleFileParams = once(() => z.object({ file: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a file name of the console')) }));
export const consoleFile = once(() => z.string());

export const clusterToken = once(() => z.object({ token: z.string(), expires_at: z.iso.datetime(), cluster: clusterName() }));

export const jwks = once(() => z.object({ keys: z.array(z.record(z.string(), z.unknown())) }));

export const openidConfiguration = once(() => z.object({
  issuer: z.url(),
  jwks_uri: z.url(),
  id_token_signing_alg_values_supported: z.array(z.string()),
}));

export const clusterStatus = once(() => z.enum(clusterStatuses));

export const cluster = once(() => z.object({
  name: clusterName(),
  visibility: z.enum(visibilities),
  status: clusterStatus(),
  nodes: z.number(),
  version: z.nullable(z.string()),
  deployed_by: z.nullable(z.string()),
  destroy_at: z.nullable(z.string()),
  deadline: z.nullable(z.string()),
  endpoints: z.array(z.string()),
  reason: z.nullable(z.string()),
  updated_at: z.nullable(z.string()),
}));

const durationText = once(() => z.string().check(z.regex(durationPattern, durationRule)));

export const deployBody = once(() => z.strictObject({
  nodes: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
  // The same rule as a run's version: it reaches user-data templates and SSM paths (no option, no "..").
  version: z.optional(z.string().check(z.refine(isSafeRef, { message: refRule }))),
  ttl: z.optional(durationText()),
}));

export const destroyScheduleBody = once(() => z
  .strictObject({ at: z.optional(z.iso.datetime({ offset: true })), in: z.optional(durationText()) })
  .check(z.refine((body) => (body.at === undefined) !== (body.in === undefined), { message: 'send exactly one of at (an ISO 8601 time) or in (a duration such as "2h")' })));

export const clusterEvent = once(() => z.object({
  time: z.string(),
  actor: z.string(),
  action: z.string(),
  from: clusterStatus(),
  to: clusterStatus(),
  request_id: z.string(),
  details: z.optional(z.record(z.string(), z.unknown())),
}));

// workspaces
export const workspaceStatus = once(() => z.enum(workspaceStatuses));
export const workspaceParams = once(() => z.object({ id: z.string().check(z.regex(workspaceIdPattern, 'must be a workspace id (ws- and 12 hex digits)')) }));
/** A duration from now or an ISO 8601 time; the domain checks it is in the future and within the limit. */
const expiry = once(() => z.string().check(z.refine((text) => expiryAt(text, new Date()) !== undefined, { message: expiryRule })));
/** zod's records drop a `__proto__` key without a word: refused before they see it. */
const workspaceValues = once(() => z.intersection(
  z.record(z.string().check(z.regex(valueKeyPattern, valueKeyRule)), workspaceValue()),
  z.custom<unknown>((body) => typeof body !== 'object' || body === null || !Object.hasOwn(body, '__proto__'), { message: '"__proto__" cannot be a key' }),
));
export const createWorkspaceBody = once(() => z.strictObject({
  name: z.optional(z.string().check(z.regex(resourceNamePattern, `must be a DNS label: ${resourceNameRule}`))),
  expiry: z.optional(expiry()),
  versions: z.optional(z.record(z.string().check(z.regex(/^[a-z][a-z0-9]{0,30}$/, 'must be a component name')), z.string().check(z.regex(versionPattern, versionRule)))),
  values: z.optional(workspaceValues()),
}));
export const extendWorkspaceBody = once(() => z.strictObject({ expiry: expiry() }));
export const workspace = once(() => z.object({
  id: z.string(),
  name: z.string(),
  owner: z.nullable(z.string()),
  status: workspaceStatus(),
  created_at: z.nullable(z.string()),
  expires_at: z.nullable(z.string()),
  /** Seconds until the deletion. */
  expires_in: z.nullable(z.number()),
  versions: z.record(z.string(), z.string()),
  /** Filled in from the catalog's templates once ready: console, notebooks, the client connection. */
  endpoints: z.record(z.string(), z.string()),
  reason: z.nullable(z.string()),
  updated_at: z.nullable(z.string()),
}));
export const workspaceExpired = once(() => z.object({ expired: z.boolean(), expires_at: z.nullable(z.string()) }));
export const workspaceEvent = once(() => z.object({
  time: z.string(),
  actor: z.string(),
  action: z.string(),
  from: workspaceStatus(),
  to: workspaceStatus(),
  request_id: z.string(),
  details: z.optional(z.record(z.string(), z.unknown())),
}));
// workbenches
export const workbenchId = once(() => z.string().check(z.regex(/^wb-[0-9a-f]{12}$/, 'must be a workbench id (wb- and 12 hex digits)')));
export const workbenchParams = once(() => z.object({ id: workbenchId() }));
const githubLogin = once(() => z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, 'must be a GitHub login')));
export const workbenchShareParams = once(() => z.object({ id: workbenchId(), login: githubLogin() }));
/** Own workbenches by default; administrators may list another owner's. */
export const workbenchListQuery = once(() => z.object({ ...pageQuery().shape, owner: z.optional(githubLogin()) }));

export const workbenchBody = once(() => z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'must be 1-64 letters, digits, spaces, dots, dashes or underscores')),
  /** CPU units: 1024 = 1 vCPU. */
  cpu: z.number().check(z.int(), z.gte(128), z.lte(196_608)),
  /** MiB. */
  memory: z.number().check(z.int(), z.gte(256), z.lte(1_572_864)),
  gpu: z.optional(z.number().check(z.int(), z.gte(0), z.lte(16))),
  dedicated_instance: z.optional(z.boolean()),
}));

export const workbench = once(() => z.object({
  id: workbenchId(),
  name: z.string(),
  /** The owner's subject (`github:<login>`), as every resource names its owner. */
  owner: z.string(),
  owner_login: z.string().check(z.meta({ deprecated: true, description: 'The owner\'s GitHub login: what `owner` held before it became the subject, as on every other resource. Deprecated: read `owner`; it will be removed in a later version.' })),
  status: z.enum(workbenchStatuses),
  cpu: z.number(),
  memory: z.number(),
  gpu: z.number(),
  dedicated_instance: z.boolean(),
  capacity_provider: z.string(),
  endpoint: z.nullable(z.string()),
  stops_at: z.nullable(z.string()),
  shares: z.array(z.string()),
  /** In the caller's list: shared with the caller by its owner. */
  shared: z.boolean(),
  reason: z.nullable(z.string()),
  created_at: z.nullable(z.string()),
  updated_at: z.nullable(z.string()),
}));
// runs
export const runStatus = once(() => z.enum(runStatuses));
export const runKind = once(() => z.enum(runKinds));

/** `{"version": "<git ref>"}`: refused (400, naming the field) unless a safe ref, before any script sees it. */
export const runBody = once(() => z.strictObject({
  version: z.string().check(z.refine(isSafeRef, { message: refRule })),
}));

export const runParams = once(() => z.object({ id: z.uuid('must be a run id (a UUID)') }));

export const runsQuery = once(() => z.object({
  ...pageQuery().shape,
  cluster: z.optional(clusterName()),
  kind: z.optional(runKind()),
  status: z.optional(runStatus()),
}));

export const runStep = once(() => z.object({
  name: z.string(),
  status: z.enum(stepStatuses),
  seconds: z.number(),
  exit_code: z.optional(z.number()),
}));

export const run = once(() => z.object({
  id: z.string(),
  kind: runKind(),
  cluster: z.string(),
  version: z.string(),
  plan: z.nullable(z.string()),
  status: runStatus(),
  created_by: z.nullable(z.string()),
  created_at: z.nullable(z.string()),
  deadline: z.nullable(z.string()),
  finished_at: z.nullable(z.string()),
  steps: z.array(runStep()),
  failed_step: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  /** A presigned GET of the log so far, valid 15 minutes; null until the run has a machine. */
  log_url: z.nullable(z.string()),
  updated_at: z.nullable(z.string()),
}));
// tokens
export const apiTokenScope = once(() => z.enum(apiTokenScopes));
export const apiTokenId = once(() => z.string().check(z.regex(apiTokenIdPattern, 'must be a token id (tok- and 16 hex digits)')));
export const apiTokenParams = once(() => z.object({ token_id: apiTokenId() }));
const uniqueList = <T>(list: T[]) => new Set(list).size === list.length;
export const apiTokenCreateBody = once(() => z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[\x20-\x7e]+$/, 'must be 1-64 printable characters')),
  scopes: z.array(apiTokenScope()).check(z.minLength(1), z.refine(uniqueList, { message: 'must not repeat a scope' })),
  expires_in: durationText(),
  clusters: z.optional(z.array(clusterName()).check(z.minLength(1), z.maxLength(100), z.refine(uniqueList, { message: 'must not repeat a cluster' }))),
}));
/** A token as listed: never its secret or its hash. */
export const apiToken = once(() => z.object({
  id: apiTokenId(),
  name: z.string(),
  scopes: z.array(apiTokenScope()),
  clusters: z.optional(z.array(z.string())),
  /** The owner's subject, `github:<login>`. */
  owner: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  last_used_at: z.optional(z.string()),
  /** The source IP of the last exchange. */
  last_used_from: z.optional(z.string()),
  revoked_at: z.optional(z.string()),
}));
/** The answer to a create: the one time the secret is shown. */
export const apiTokenCreated = once(() => z.object({
  id: apiTokenId(),
  name: z.string(),
  token: z.string().check(z.regex(apiTokenPattern)),
  scopes: z.array(apiTokenScope()),
  clusters: z.optional(z.array(z.string())),
  owner: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
}));
/** Own tokens by default; administrators may list another owner's. */
export const apiTokenListQuery = once(() => z.object({ ...pageQuery().shape, owner: z.optional(githubLogin()) }));
export const noContent = once(() => z.undefined());
// admin
const countsByStatus = <S extends readonly [string, ...string[]]>(statuses: S) => z.object(Object.fromEntries(statuses.map((status) => [status, z.number().check(z.int(), z.gte(0))])) as Record<S[number], z.ZodMiniNumber<number>>);
/** An operator's view: counts by status per area, what is stuck, slots, what is due within the hour, the last day's failed runs. */
export const adminOverview = once(() => z.object({
  generated_at: z.string(),
  areas: z.object({
    clusters: countsByStatus(clusterStatuses),
    workspaces: countsByStatus(workspaceStatuses),
    workbenches: countsByStatus(workbenchStatuses),
    runs: countsByStatus(runStatuses),
  }),
  /** In a transitional state (deploying, destroying, creating, deleting, starting, stopping, queued) longer than an operation may take. */
  stuck: z.array(z.object({
    kind: z.enum(['cluster', 'workspace', 'workbench', 'run']),
    id: z.string(),
    status: z.string(),
    /** When it entered that status. */
    since: z.string(),
    deadline: z.optional(z.string()),
    owner: z.optional(z.string()),
    reason: z.optional(z.string()),
  })),
  /** Per deployer, the clusters holding one of their `max_deployments` slots. */
  slots: z.array(z.object({ deployer: z.string(), clusters: z.array(z.string()) })),
  due: z.array(z.object({ kind: z.enum(['cluster', 'workspace', 'workbench', 'run']), id: z.string(), action: z.enum(['destroy', 'expire', 'auto-stop', 'timeout']), at: z.string() })),
  failed_runs: z.array(z.object({ id: z.string(), status: z.enum(['failed', 'timed_out']), ended_at: z.string(), cluster: z.optional(z.string()), reason: z.optional(z.string()) })),
}));
/** Why an administrator steps in: recorded on the cluster's trail. */
export const adminReasonBody = once(() => z.strictObject({ reason: z.string().check(z.trim(), z.minLength(1, 'say why (it is recorded on the trail)'), z.maxLength(500)) }));

