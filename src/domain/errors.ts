/**
 * The one error taxonomy of the API: every failure a client can see has a stable code, and the
 * code alone decides the HTTP status. Messages say what was wrong and what to do.
 */
export const errorStatus = {
  invalid_json: 400,
  invalid_request: 400,
  invalid_next_token: 400,
  invalid_github_token: 401,
  invalid_oidc_token: 401,
  invalid_token: 401,
  authentication_required: 401,
  forbidden: 403,
  repository_not_allowed: 403,
  not_found: 404,
  cluster_not_found: 404,
  method_not_allowed: 405,
  scheduled_for_delete: 409,
  schedule_locked: 409,
  cluster_not_deployed: 409,
  deployment_limit_reached: 409,
  version_mismatch: 409,
  nodes_mismatch: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  github_unavailable: 503,
  service_unavailable: 503,
  backend_unavailable: 503,
  /** An AWS service the request needs is throttling, failing or not answering: retry after `Retry-After`. */
  dependency_unavailable: 503,
  // workspaces
  workspace_not_found: 404,
  name_taken: 409,
  workspace_not_active: 409,
  // workbenches
  workbench_not_found: 404,
  limit_exceeded: 403,
  // runs
  run_not_found: 404,
  cluster_not_running: 409,
  run_finished: 409,
  runs_not_configured: 409,
  // device login (the console): GitHub's device-flow answers, and a server without an OAuth app
  authorization_pending: 428,
  slow_down: 429,
  device_code_expired: 400,
  device_flow_denied: 403,
  invalid_device_code: 400,
  device_flow_not_configured: 501,
  // tokens
  invalid_api_token: 401,
  insufficient_scope: 403,
  person_required: 403,
  token_not_found: 404,
  token_limit_reached: 409,
  // admin
  cluster_not_stuck: 409,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export const errorCodes = Object.keys(errorStatus) as ErrorCode[];

/** An error meant for the client: its code, status and message are part of the API. */
export class ProvisionerError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, e.g. `Retry-After` on 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ProvisionerError';
    this.status = errorStatus[code];
  }
}
