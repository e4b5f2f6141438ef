import type * as z from '../zod.js';
import type { Level } from '../domain/levels.js';
import type { ApiTokenScope } from '../domain/api-tokens.js';
import {
  cluster,
  clusterEvent,
  clusterParams,
  clusterToken,
  deployBody,
  destroyScheduleBody,
  health,
  identity,
  jsonDocument,
  jwks,
  loginBody,
  loginResponse,
  openidConfiguration,
  page,
  pageQuery,
  run,
  runBody,
  runParams,
  runsQuery,
} from './schemas.js';
// workspaces
import { createWorkspaceBody, extendWorkspaceBody, workspace, workspaceEvent, workspaceExpired, workspaceParams } from './schemas.js';
// workbenches
import { workbench, workbenchBody, workbenchListQuery, workbenchParams, workbenchShareParams } from './schemas.js';
// console
import { consoleFile, consoleFileParams, deviceCode, deviceTokenBody } from './schemas.js';
// tokens
import { apiToken, apiTokenCreateBody, apiTokenCreated, apiTokenListQuery, apiTokenParams, noContent } from './schemas.js';
// admin
import { adminOverview, adminReasonBody } from './schemas.js';

/**
 * THE route table. CDK builds one Lambda and one HTTP API route per entry, the local server routes
 * by it, `/v1/openapi.json` is generated from it and the tests iterate it. The key is the operation
 * name, which is also the folder of its handler: `lambdas/<operation>/index.ts`.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** The lowest level that may call it; finer policy (per cluster, per owner) lives in the domain. */
  auth: Level;
  /**
   * The API-token scope a scoped session needs to call it (issue 23). A route without one is closed to
   * scoped sessions (403 `insufficient_scope`), except those in `scopeFreeOperations`.
   */
  scope?: ApiTokenScope;
  summary: string;
  tag: string;
  /** Schemas are built on first use (`once` in schemas.ts): a function builds only its own route's. */
  params?: () => z.ZodMiniObject;
  query?: () => z.ZodMiniObject;
  body?: () => z.ZodMiniType;
  responses: Partial<Record<200 | 201 | 202 | 204, () => z.ZodMiniType>>;
  /** Public routes skip authentication and rate limits (health, OpenAPI, JWKS). */
  public?: true;
  /**
   * `parallel`: count the request while the operation runs and refuse its result if over the limit,
   * so the count's round trip adds no latency; only for operations without side effects (the reads,
   * and ACCESS, called all day). Default: count first.
   */
  rateLimit?: 'parallel';
  /**
   * Answers a file of the web console (its own content type and headers), not JSON: left out of
   * OpenAPI and of the client's `call()`, which speak only the JSON API.
   */
  file?: true;
  /** Lambda timeout; API Gateway cuts every request at 30 s anyway. */
  timeoutSeconds?: number;
  memoryMb?: number;
}

function route<const R extends RouteSpec>(spec: R): R {
  return spec;
}

export const routes = {
  health: route({
    method: 'GET',
    path: '/v1/health',
    auth: 'anonymous',
    public: true,
    summary: 'Liveness of the API',
    tag: 'meta',
    responses: { 200: health },
  }),
  openapi: route({
    method: 'GET',
    path: '/v1/openapi.json',
    auth: 'anonymous',
    public: true,
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    responses: { 200: jsonDocument },
  }),
  login: route({
    method: 'POST',
    path: '/v1/login',
    auth: 'anonymous',
    summary: 'Exchange a GitHub user token, a GitHub Actions OIDC token or an API token (prv_...) for a user JWT',
    tag: 'identity',
    body: loginBody,
    responses: { 200: loginResponse },
  }),
  whoami: route({
    method: 'GET',
    path: '/v1/whoami',
    auth: 'anonymous',
    rateLimit: 'parallel',
    summary: 'Who the bearer token says the caller is',
    tag: 'identity',
    responses: { 200: identity },
  }),
  access: route({
    method: 'POST',
    path: '/v1/clusters/{cluster}/access',
    auth: 'anonymous',
    scope: 'clusters:access',
    summary: 'A short-lived cluster JWT that the cluster verifies offline against the JWKS',
    tag: 'identity',
    params: clusterParams,
    rateLimit: 'parallel',
    responses: { 200: clusterToken },
  }),
  jwks: route({
    method: 'GET',
    path: '/.well-known/jwks.json',
    auth: 'anonymous',
    public: true,
    summary: 'The public keys that verify user and cluster JWTs (current and previous)',
    tag: 'identity',
    responses: { 200: jwks },
  }),
  'openid-configuration': route({
    method: 'GET',
    path: '/.well-known/openid-configuration',
    auth: 'anonymous',
    public: true,
    summary: 'Issuer and JWKS location',
    tag: 'identity',
    responses: { 200: openidConfiguration },
  }),
  'list-clusters': route({
    method: 'GET',
    path: '/v1/clusters',
    auth: 'anonymous',
    scope: 'clusters:read',
    rateLimit: 'parallel',
    summary: 'The clusters of the catalog the caller may see, with their status',
    tag: 'clusters',
    query: pageQuery,
    responses: { 200: page(cluster) },
  }),
  'get-cluster': route({
    method: 'GET',
    path: '/v1/clusters/{cluster}',
    auth: 'anonymous',
    scope: 'clusters:read',
    rateLimit: 'parallel',
    summary: 'A cluster and its progress (asks the backend while deploying or destroying)',
    tag: 'clusters',
    params: clusterParams,
    responses: { 200: cluster },
  }),
  deploy: route({
    method: 'POST',
    path: '/v1/clusters/{cluster}/deploy',
    auth: 'github_member',
    scope: 'clusters:deploy',
    summary: 'Deploy a cluster: 200 if running, 202 while deploying (poll GET for progress)',
    tag: 'clusters',
    params: clusterParams,
    body: deployBody,
    responses: { 200: cluster, 202: cluster },
  }),
  'schedule-destroy': route({
    method: 'PUT',
    path: '/v1/clusters/{cluster}/destroy-schedule',
    auth: 'github_member',
    scope: 'clusters:deploy',
    summary: 'Schedule (or move) the destroy of a cluster; locked 5 minutes before it fires',
    tag: 'clusters',
    params: clusterParams,
    body: destroyScheduleBody,
    responses: { 200: cluster },
  }),
  'cancel-destroy': route({
    method: 'DELETE',
    path: '/v1/clusters/{cluster}/destroy-schedule',
    auth: 'github_member',
    scope: 'clusters:deploy',
    summary: 'Cancel the scheduled destroy, under the same 5-minute lock',
    tag: 'clusters',
    params: clusterParams,
    responses: { 200: cluster },
  }),
  destroy: route({
    method: 'POST',
    path: '/v1/clusters/{cluster}/destroy',
    auth: 'github_member',
    scope: 'clusters:deploy',
    summary: 'Destroy a cluster: 200 if absent, 202 while destroying',
    tag: 'clusters',
    params: clusterParams,
    responses: { 200: cluster, 202: cluster },
  }),
  'cluster-events': route({
    method: 'GET',
    path: '/v1/clusters/{cluster}/events',
    auth: 'anonymous',
    scope: 'clusters:read',
    rateLimit: 'parallel',
    summary: 'The audit trail of a cluster, newest first',
    tag: 'clusters',
    params: clusterParams,
    query: pageQuery,
    responses: { 200: page(clusterEvent) },
  }),
  // workspaces
  'workspace-create': route({
    method: 'POST',
    path: '/v1/workspaces',
    auth: 'org_member',
    scope: 'workspaces',
    summary: 'Create a workspace: 202 while creating (poll GET until ready); deleted at its expiry',
    tag: 'workspaces',
    body: createWorkspaceBody,
    responses: { 202: workspace },
  }),
  'workspace-list': route({
    method: 'GET',
    path: '/v1/workspaces',
    auth: 'org_member',
    scope: 'workspaces',
    rateLimit: 'parallel',
    summary: 'Your workspaces (an administrator\'s: everyone\'s), newest first within an owner',
    tag: 'workspaces',
    query: pageQuery,
    responses: { 200: page(workspace) },
  }),
  'workspace-get': route({
    method: 'GET',
    path: '/v1/workspaces/{id}',
    auth: 'org_member',
    scope: 'workspaces',
    rateLimit: 'parallel',
    summary: 'A workspace, its endpoints and expiry (asks the backend while creating or deleting)',
    tag: 'workspaces',
    params: workspaceParams,
    responses: { 200: workspace },
  }),
  'workspace-expired': route({
    method: 'GET',
    path: '/v1/workspaces/{id}/expired',
    auth: 'org_member',
    scope: 'workspaces',
    rateLimit: 'parallel',
    summary: 'Whether a workspace is past its expiry',
    tag: 'workspaces',
    params: workspaceParams,
    responses: { 200: workspaceExpired },
  }),
  'workspace-update': route({
    method: 'PATCH',
    path: '/v1/workspaces/{id}',
    auth: 'org_member',
    scope: 'workspaces',
    summary: 'Move a workspace\'s expiry (at most max_expiry after its creation)',
    tag: 'workspaces',
    params: workspaceParams,
    body: extendWorkspaceBody,
    responses: { 200: workspace },
  }),
  'workspace-delete': route({
    method: 'DELETE',
    path: '/v1/workspaces/{id}',
    auth: 'org_member',
    scope: 'workspaces',
    summary: 'Delete a workspace now: 202 while deleting',
    tag: 'workspaces',
    params: workspaceParams,
    responses: { 202: workspace },
  }),
  'workspace-events': route({
    method: 'GET',
    path: '/v1/workspaces/{id}/events',
    auth: 'org_member',
    scope: 'workspaces',
    rateLimit: 'parallel',
    summary: 'The audit trail of a workspace, newest first (workspace.expiring among them)',
    tag: 'workspaces',
    params: workspaceParams,
    query: pageQuery,
    responses: { 200: page(workspaceEvent) },
  }),
  // workbenches
  'workbench-list': route({
    method: 'GET',
    path: '/v1/workbenches',
    auth: 'github_member',
    scope: 'workbenches',
    rateLimit: 'parallel',
    summary: 'The caller\'s workbenches, oldest first (administrators: ?owner=<login>)',
    tag: 'workbenches',
    query: workbenchListQuery,
    responses: { 200: page(workbench) },
  }),
  'workbench-create': route({
    method: 'POST',
    path: '/v1/workbenches',
    auth: 'github_member',
    scope: 'workbenches',
    summary: 'Create and start a workbench on the cheapest capacity that fits (202; poll GET until running)',
    tag: 'workbenches',
    body: workbenchBody,
    responses: { 202: workbench },
  }),
  'workbench-get': route({
    method: 'GET',
    path: '/v1/workbenches/{id}',
    auth: 'github_member',
    scope: 'workbenches',
    rateLimit: 'parallel',
    summary: 'A workbench and its progress (asks the backend while its task is alive)',
    tag: 'workbenches',
    params: workbenchParams,
    responses: { 200: workbench },
  }),
  'workbench-start': route({
    method: 'POST',
    path: '/v1/workbenches/{id}/start',
    auth: 'github_member',
    scope: 'workbenches',
    summary: 'Start a workbench: 200 when running already, 202 while starting; re-arms its auto-stop',
    tag: 'workbenches',
    params: workbenchParams,
    responses: { 200: workbench, 202: workbench },
  }),
  'workbench-stop': route({
    method: 'POST',
    path: '/v1/workbenches/{id}/stop',
    auth: 'github_member',
    scope: 'workbenches',
    summary: 'Stop a workbench (its data stays): 200 when stopped already, 202 while stopping',
    tag: 'workbenches',
    params: workbenchParams,
    responses: { 200: workbench, 202: workbench },
  }),
  'workbench-share': route({
    method: 'PUT',
    path: '/v1/workbenches/{id}/shares/{login}',
    auth: 'github_member',
    scope: 'workbenches',
    summary: 'Let another login see, start and stop a workbench (owner only)',
    tag: 'workbenches',
    params: workbenchShareParams,
    responses: { 200: workbench },
  }),
  'workbench-unshare': route({
    method: 'DELETE',
    path: '/v1/workbenches/{id}/shares/{login}',
    auth: 'github_member',
    scope: 'workbenches',
    summary: 'Revoke a share, at once (owner only)',
    tag: 'workbenches',
    params: workbenchShareParams,
    responses: { 200: workbench },
  }),
  'workbench-delete': route({
    method: 'DELETE',
    path: '/v1/workbenches/{id}',
    auth: 'github_member',
    scope: 'workbenches',
    summary: 'Delete a workbench, its task, its data and its dedicated instance (owner only)',
    tag: 'workbenches',
    params: workbenchParams,
    responses: { 200: workbench },
  }),
  // runs
  'test-runner': route({
    method: 'POST',
    path: '/v1/clusters/{cluster}/tests',
    auth: 'administrator',
    scope: 'runs:start',
    summary: 'TEST: run the catalog\'s test plan at a git ref against a running cluster, on a throw-away machine',
    tag: 'runs',
    params: clusterParams,
    body: runBody,
    responses: { 202: run },
  }),
  release: route({
    method: 'POST',
    path: '/v1/clusters/{cluster}/releases',
    auth: 'administrator',
    scope: 'runs:start',
    summary: 'RELEASE: run the catalog\'s release plan (build and push the cluster images) at a git ref',
    tag: 'runs',
    params: clusterParams,
    body: runBody,
    responses: { 202: run },
  }),
  'get-run': route({
    method: 'GET',
    path: '/v1/runs/{id}',
    auth: 'administrator',
    scope: 'runs:read',
    rateLimit: 'parallel',
    summary: 'A run, its steps and a presigned link to its log (valid 15 minutes)',
    tag: 'runs',
    params: runParams,
    responses: { 200: run },
  }),
  'list-runs': route({
    method: 'GET',
    path: '/v1/runs',
    auth: 'administrator',
    scope: 'runs:read',
    rateLimit: 'parallel',
    summary: 'Runs, newest first; cluster, kind and status filter each page',
    tag: 'runs',
    query: runsQuery,
    responses: { 200: page(run) },
  }),
  'cancel-run': route({
    method: 'POST',
    path: '/v1/runs/{id}/cancel',
    auth: 'administrator',
    scope: 'runs:start',
    summary: 'Cancel a run that has not ended (409 once it has): its machine is terminated',
    tag: 'runs',
    params: runParams,
    responses: { 200: run },
  }),
  // tokens
  'token-create': route({
    method: 'POST',
    path: '/v1/tokens',
    auth: 'github_member',
    scope: 'tokens',
    summary: 'Create a scoped, expiring API token (201); its secret is shown once, in this answer only',
    tag: 'tokens',
    body: apiTokenCreateBody,
    responses: { 201: apiTokenCreated },
  }),
  'token-list': route({
    method: 'GET',
    path: '/v1/tokens',
    auth: 'github_member',
    scope: 'tokens',
    rateLimit: 'parallel',
    summary: 'Your API tokens, newest first, never their secrets (administrators: ?owner=<login>)',
    tag: 'tokens',
    query: apiTokenListQuery,
    responses: { 200: page(apiToken) },
  }),
  'token-revoke': route({
    method: 'DELETE',
    path: '/v1/tokens/{token_id}',
    auth: 'github_member',
    scope: 'tokens',
    summary: 'Revoke an API token: it no longer exchanges, and the sessions made from it end within a minute',
    tag: 'tokens',
    params: apiTokenParams,
    responses: { 204: noContent },
  }),
  logout: route({
    method: 'POST',
    path: '/v1/logout',
    auth: 'github_member',
    summary: 'End the presented user JWT: refused everywhere within a minute, until it would have expired',
    tag: 'identity',
    responses: { 204: noContent },
  }),
  // admin: an operator's view and the two ways out of a destroy the backend refuses forever (no scope: API tokens never reach them)
  'admin-overview': route({
    method: 'GET',
    path: '/v1/admin/overview',
    auth: 'administrator',
    summary: 'Counts by status per area, stuck items, deployment slots, what is due within the hour, failed runs of the last 24 h',
    tag: 'admin',
    responses: { 200: adminOverview },
    rateLimit: 'parallel',
  }),
  'admin-release-slot': route({
    method: 'POST',
    path: '/v1/admin/clusters/{cluster}/release-slot',
    auth: 'administrator',
    summary: "Give a destroying or failed cluster's deployment slot back to its deployer (recorded with the reason)",
    tag: 'admin',
    params: clusterParams,
    body: adminReasonBody,
    responses: { 200: cluster },
  }),
  'admin-force-absent': route({
    method: 'POST',
    path: '/v1/admin/clusters/{cluster}/force-absent',
    auth: 'administrator',
    summary: 'Record a destroying or failed cluster absent (schedules deleted, slot freed; the janitor sweeps what remains)',
    tag: 'admin',
    params: clusterParams,
    body: adminReasonBody,
    responses: { 200: cluster },
  }),
  // console: the device login a browser needs (it cannot call GitHub's token endpoint), and the page itself
  'login-device': route({
    method: 'POST',
    path: '/v1/login/device',
    auth: 'anonymous',
    summary: 'Start a GitHub device login: the code to enter at GitHub (501 without a configured OAuth app)',
    tag: 'identity',
    responses: { 200: deviceCode },
  }),
  'login-device-token': route({
    method: 'POST',
    path: '/v1/login/device/token',
    auth: 'anonymous',
    summary: 'Ask GitHub once whether the code was entered: the user JWT if so, 428 authorization_pending until then',
    tag: 'identity',
    body: deviceTokenBody,
    responses: { 200: loginResponse },
  }),
  console: route({
    method: 'GET',
    path: '/',
    auth: 'anonymous',
    public: true,
    file: true,
    summary: 'The web console',
    tag: 'console',
    responses: { 200: consoleFile },
    memoryMb: 256,
  }),
  'console-file': route({
    method: 'GET',
    path: '/console/{file}',
    auth: 'anonymous',
    public: true,
    file: true,
    summary: 'A script or style sheet of the web console',
    tag: 'console',
    params: consoleFileParams,
    responses: { 200: consoleFile },
    memoryMb: 256,
  }),
} as const;

export type Routes = typeof routes;
export type Operation = keyof Routes;
/** The operations of the JSON API: every route but the console's files. */
export type ApiOperation = { [O in Operation]: Routes[O] extends { file: true } ? never : O }[Operation];
export const operations = Object.keys(routes) as Operation[];

/** The table as plain entries, for code that walks every route (CDK, OpenAPI, the matcher, tests). */
export const routeEntries = Object.entries(routes) as [Operation, RouteSpec][];

/** `GET /v1/clusters/{cluster}`: the route key API Gateway uses, and the local server too. */
export function routeKey(spec: RouteSpec): string {
  return `${spec.method} ${spec.path}`;
}

/**
 * The authenticated routes without a `scope` that a scoped (API-token) session may still call: who it
 * is and ending it. Every other route without a scope (administration) is closed to API tokens.
 */
export const scopeFreeOperations: readonly Operation[] = ['whoami', 'logout'];

/** Whether a scoped session may be refused the route: it names a scope, or it needs a login and is not scope-free. */
export function scopeChecked(operation: string, spec: RouteSpec): boolean {
  return spec.scope !== undefined || (spec.auth !== 'anonymous' && !(scopeFreeOperations as readonly string[]).includes(operation));
}

/** The operation that answers requests no route matches (404 or 405), in AWS and locally. */
export const fallbackOperation = 'fallback';
