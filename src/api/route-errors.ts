import { type ErrorCode, errorCodes } from '../domain/errors.js';
import { type Operation, type RouteSpec, routes, scopeChecked } from './routes.js';

/**
 * The error codes each operation's own rules may answer. Those its shape implies (a body, a query,
 * authentication, a minimum level) are added by `routeErrors`; a new route does not compile until it
 * has an entry here, so docs/api.md and the OpenAPI document never miss one.
 */
const operationErrors = {
  health: [],
  openapi: [],
  login: ['invalid_github_token', 'invalid_oidc_token', 'invalid_api_token', 'repository_not_allowed', 'github_unavailable', 'dependency_unavailable'],
  whoami: [],
  access: ['cluster_not_found'],
  jwks: ['service_unavailable', 'dependency_unavailable'],
  'openid-configuration': [],
  'list-clusters': [],
  'get-cluster': ['cluster_not_found'],
  deploy: ['cluster_not_found', 'forbidden', 'scheduled_for_delete', 'deployment_limit_reached', 'version_mismatch', 'nodes_mismatch', 'backend_unavailable'],
  'schedule-destroy': ['cluster_not_found', 'forbidden', 'cluster_not_deployed', 'schedule_locked'],
  'cancel-destroy': ['cluster_not_found', 'forbidden', 'cluster_not_deployed', 'schedule_locked'],
  destroy: ['cluster_not_found', 'forbidden', 'backend_unavailable'],
  'cluster-events': ['cluster_not_found'],
  'workspace-create': ['name_taken', 'backend_unavailable', 'limit_exceeded'],
  'workspace-list': [],
  'workspace-get': ['workspace_not_found'],
  'workspace-expired': ['workspace_not_found'],
  'workspace-update': ['workspace_not_found', 'workspace_not_active'],
  'workspace-delete': ['workspace_not_found', 'backend_unavailable'],
  'workspace-events': ['workspace_not_found'],
  'workbench-list': [],
  'workbench-create': ['limit_exceeded', 'backend_unavailable'],
  'workbench-get': ['workbench_not_found', 'backend_unavailable'],
  'workbench-start': ['workbench_not_found', 'limit_exceeded', 'backend_unavailable'],
  'workbench-stop': ['workbench_not_found', 'backend_unavailable'],
  'workbench-share': ['workbench_not_found', 'limit_exceeded'],
  'workbench-unshare': ['workbench_not_found'],
  'workbench-delete': ['workbench_not_found', 'backend_unavailable'],
  'test-runner': ['cluster_not_found', 'cluster_not_running', 'runs_not_configured', 'backend_unavailable'],
  release: ['cluster_not_found', 'cluster_not_running', 'runs_not_configured', 'backend_unavailable'],
  'get-run': ['run_not_found'],
  'list-runs': [],
  'cancel-run': ['run_not_found', 'run_finished'],
  'login-device': ['device_flow_not_configured', 'github_unavailable'],
  'login-device-token': ['authorization_pending', 'slow_down', 'device_code_expired', 'device_flow_denied', 'invalid_device_code', 'device_flow_not_configured', 'invalid_github_token', 'github_unavailable', 'dependency_unavailable'],
  console: [],
  'console-file': ['not_found'],
  // tokens
  'token-create': ['invalid_request', 'person_required', 'token_limit_reached'],
  'token-list': [],
  'token-revoke': ['token_not_found'],
  logout: [],
  // admin
  'admin-overview': [],
  'admin-release-slot': ['cluster_not_found', 'cluster_not_stuck'],
  'admin-force-absent': ['cluster_not_found', 'cluster_not_stuck'],
} as const satisfies Record<Operation, readonly ErrorCode[]>;

/**
 * Every error code a route may answer, in the order of the error table: what its shape implies
 * (body cap, validation, paging, authentication, level, rate limit, the store) and its own rules.
 * `internal_error` (a bug) is left out: it is never part of a route's contract.
 */
export function routeErrors(operation: Operation): ErrorCode[] {
  const spec: RouteSpec = routes[operation];
  const codes = new Set<ErrorCode>(operationErrors[operation]);
  const add = (...list: ErrorCode[]) => list.forEach((code) => codes.add(code));
  add('body_too_large');
  if (spec.params || spec.query || spec.body) add('invalid_request');
  if (spec.body) add('invalid_json', 'unsupported_media_type');
  if (spec.query && 'next_token' in spec.query().shape) add('invalid_next_token');
  if (!spec.public) add('invalid_token', 'rate_limited', 'service_unavailable', 'dependency_unavailable');
  if (spec.auth !== 'anonymous') add('authentication_required', 'forbidden');
  // tokens: a scoped session is refused a route outside its scopes, and another cluster than its own.
  if (scopeChecked(operation, spec)) add('insufficient_scope');
  return errorCodes.filter((code) => codes.has(code));
}

/** What each code means to a client, for the error table of docs/api.md. */
export const errorMeanings = {
  invalid_json: 'The body is not valid JSON.',
  invalid_request: 'A path parameter, query parameter or body field is malformed or out of range; `details.issues` names each.',
  invalid_next_token: 'The `next_token` is not one this API issued for this list; start again without it.',
  invalid_github_token: 'GitHub did not accept the token sent to `POST /v1/login`.',
  invalid_oidc_token: 'The GitHub Actions OIDC token was refused (signature, issuer, audience or expiry).',
  invalid_token: 'The bearer token is expired, malformed, or not one this API issued; log in again.',
  authentication_required: 'The route needs a login; send `Authorization: Bearer <user JWT>`.',
  forbidden: 'The caller\'s level or the resource\'s policy does not allow this.',
  repository_not_allowed: 'No catalog `actions` rule lets this repository and ref log in.',
  not_found: 'No route has this path.',
  cluster_not_found: 'No such cluster, or one the caller may not see.',
  method_not_allowed: 'The path exists under another method; `Allow` lists them.',
  scheduled_for_delete: 'The cluster is being destroyed; deploy it again once it is absent.',
  schedule_locked: 'The destroy is less than 5 minutes away and can no longer be moved or cancelled.',
  cluster_not_deployed: 'Only a deploying or running cluster can be scheduled for destroy.',
  deployment_limit_reached: 'The caller holds the most deployments allowed at their level.',
  body_too_large: 'The body is larger than 64 KB.',
  unsupported_media_type: 'The body is not sent as `application/json`.',
  rate_limited: 'Too many requests in this window; retry after `Retry-After` seconds.',
  headers_too_large: 'The request headers are too large.',
  internal_error: 'A bug on the server side; the message names the request id it was logged with.',
  github_unavailable: 'GitHub (or its Actions OIDC issuer) could not be reached; retry.',
  service_unavailable: 'The request could not be completed now (many concurrent changes, an id collision, the log store); retry after `Retry-After`.',
  version_mismatch: 'The cluster runs (or is deploying) another version; `details.running_version` names it. Destroy it first to change versions.',
  nodes_mismatch: 'The cluster runs (or is deploying) another number of nodes; `details.running_nodes` names it.',
  authorization_pending: 'Device login: the user has not yet entered the code at GitHub; poll again after `interval` seconds.',
  slow_down: 'Device login: polled too often; wait `Retry-After` seconds before the next poll.',
  device_code_expired: 'Device login: the code expired before it was approved; start again.',
  device_flow_denied: 'Device login: the user refused the request at GitHub.',
  invalid_device_code: 'Device login: GitHub does not know this device code.',
  device_flow_not_configured: 'Device login is not set up (no PROVISIONER_GITHUB_CLIENT_ID, or GitHub refuses that OAuth app); log in with a GitHub token instead.',
  dependency_unavailable: 'An AWS service (DynamoDB, EC2, Scheduler, Secrets Manager) throttled, failed or did not answer; retry after `Retry-After`.',
  backend_unavailable: 'The compute backend could not act; retry shortly.',
  workspace_not_found: 'No such workspace, or one the caller may not see.',
  name_taken: 'A workspace of that name exists.',
  workspace_not_active: 'Only a creating or ready workspace\'s expiry can change.',
  workbench_not_found: 'No such workbench, or one the caller may not see.',
  limit_exceeded: 'Above a limit of the caller\'s level (cpu, memory, gpu, count, shares); `details` names it.',
  run_not_found: 'No such run.',
  cluster_not_running: 'A test or release run needs the cluster running.',
  run_finished: 'The run has ended; there is nothing to cancel.',
  runs_not_configured: 'The catalog declares no plan for this run.',
  // tokens
  invalid_api_token: 'The API token is unknown, revoked or expired; create another (POST /v1/tokens).',
  insufficient_scope: 'The session comes from an API token whose scopes (or clusters) do not cover this; `details.scope` or `details.cluster` names what is missing.',
  person_required: 'Only people (GitHub logins) own API tokens; a GitHub Actions workflow uses its OIDC token instead.',
  token_not_found: 'No such API token, or one of another owner.',
  token_limit_reached: 'The owner holds the most live API tokens allowed; revoke one first.',
  // admin
  cluster_not_stuck: 'Release-slot and force-absent are only for a destroying or failed cluster; `details.status` names its status.',
} as const satisfies Record<ErrorCode, string>;
