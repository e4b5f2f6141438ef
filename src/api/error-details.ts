import type { ErrorCode } from '../domain/errors.js';

type JsonSchema = Record<string, unknown>;

const text = { type: 'string' };
const count = { type: 'integer' };

/**
 * What `error.details` holds for the codes whose answers carry details, as JSON Schema (the OpenAPI
 * document's per-code error schemas). Details may grow fields; the ones named here are always sent.
 */
export const errorDetails: Partial<Record<ErrorCode, JsonSchema>> = {
  invalid_request: {
    type: 'object',
    description: 'Each invalid field, or the one `field` a rule refused.',
    properties: {
      issues: { type: 'array', items: { type: 'object', required: ['location', 'path', 'message'], properties: { location: text, path: text, message: text } } },
      field: text,
    },
  },
  body_too_large: { type: 'object', required: ['max_bytes'], properties: { max_bytes: count } },
  method_not_allowed: { type: 'object', properties: { allowed: { type: 'array', items: text } } },
  name_taken: { type: 'object', properties: { field: text } },
  limit_exceeded: { type: 'object', required: ['limit'], properties: { limit: text, value: count, max: count } },
  cluster_not_running: { type: 'object', required: ['status'], properties: { status: text } },
  run_finished: { type: 'object', required: ['status'], properties: { status: text } },
  version_mismatch: { type: 'object', properties: { running_version: text } },
  nodes_mismatch: { type: 'object', properties: { running_nodes: count } },
  rate_limited: { type: 'object', properties: { limit: count, retry_after: count } },
  // tokens
  insufficient_scope: { type: 'object', description: 'The scope the route needs, or the cluster outside the token\'s clusters.', properties: { scope: text, cluster: text, operation: text } },
  token_limit_reached: { type: 'object', required: ['limit'], properties: { limit: count } },
  // admin
  cluster_not_stuck: { type: 'object', required: ['status'], properties: { cluster: text, status: text } },
};
