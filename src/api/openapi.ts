import * as z from '../zod.js';
import { type ErrorCode, errorStatus } from '../domain/errors.js';
import { version } from '../version.js';
import { errorDetails } from './error-details.js';
import { routeErrors } from './route-errors.js';
import { routeEntries } from './routes.js';
import { errorBody } from './schemas.js';

type JsonObject = Record<string, unknown>;

/** OpenAPI 3.1 generated from the route table, so other languages can generate clients. */
export function openApiDocument(): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const [operation, spec] of routeEntries) {
    // The console's files are pages for a browser, not operations a generated client could use.
    if (spec.file) continue;
    const parameters = [
      ...objectParameters(spec.params?.(), 'path'),
      ...objectParameters(spec.query?.(), 'query'),
    ];
    const responses: JsonObject = {};
    for (const [status, schema] of Object.entries(spec.responses)) {
      const headers = { 'x-request-id': { $ref: '#/components/headers/RequestId' } };
      // 204 No Content has no body to describe.
      responses[status] = status === '204' ? { description: 'Success', headers } : { description: 'Success', headers, content: { 'application/json': { schema: toSchema(schema(), 'output') } } };
    }
    // Each error status the route may answer, with exactly the codes it may carry there (docs/api.md has the same list).
    const codes = routeErrors(operation);
    for (const status of [...new Set(codes.map((code) => errorStatus[code]))].sort()) {
      const here = codes.filter((code) => errorStatus[code] === status);
      responses[String(status)] = {
        description: `Error: ${here.join(', ')}`,
        headers: { 'x-request-id': { $ref: '#/components/headers/RequestId' }, ...((status === 429 || status === 503) && { 'retry-after': { $ref: '#/components/headers/RetryAfter' } }) },
        content: { 'application/json': { schema: errorSchema(here) } },
      };
    }
    const entry: JsonObject = {
      operationId: operation,
      summary: spec.summary,
      tags: [spec.tag],
      ...(parameters.length > 0 && { parameters }),
      ...(spec.body && {
        // An empty body is read as `{}`: the body is required exactly when `{}` is not a valid one.
        requestBody: { required: !spec.body().safeParse({}).success, content: { 'application/json': { schema: toSchema(spec.body(), 'input') } } },
      }),
      // Anonymous routes say so (`security: []`), the others need a user JWT.
      ...(spec.auth === 'anonymous' ? { security: [] } : { security: [{ bearer: [] }], 'x-minimum-level': spec.auth }),
      // tokens: the scope a session from an API token needs (docs/tokens.md).
      ...(spec.scope && { 'x-api-token-scope': spec.scope }),
      responses,
    };
    (paths[spec.path] ??= {})[spec.method.toLowerCase()] = entry;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Provisioner API', version, description: 'Create, use and tear down short-lived cloud environments.' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: toSchema(errorBody(), 'output') },
      headers: {
        RequestId: { description: 'The request id, also in the server logs: quote it when reporting a problem.', schema: { type: 'string' } },
        RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'string', pattern: '^[0-9]+$' } },
      },
    },
  };
}

/** The error body of one status of one route: its codes as an enum, and the details each code carries. */
function errorSchema(codes: ErrorCode[]): JsonObject {
  const variant = (code: ErrorCode): JsonObject => ({
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { const: code }, message: { type: 'string' }, ...(errorDetails[code] && { details: errorDetails[code] }) },
  });
  const withDetails = codes.filter((code) => errorDetails[code]);
  const error: JsonObject =
    withDetails.length === 0
      ? { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', enum: codes }, message: { type: 'string' }, details: { type: 'object' } } }
      : { oneOf: [...withDetails.map(variant), ...(codes.length > withDetails.length ? [{ type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', enum: codes.filter((code) => !errorDetails[code]) }, message: { type: 'string' }, details: { type: 'object' } } }] : [])] };
  return { type: 'object', required: ['error'], properties: { error } };
}

export function toSchema(schema: z.ZodMiniType, io: 'input' | 'output'): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonObject;
  return rest;
}

function objectParameters(schema: z.ZodMiniObject | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}
