import * as z from '../zod.js';
import { errorStatus } from '../domain/errors.js';
import { version } from '../version.js';
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
      responses[status] = { description: 'Success', content: { 'application/json': { schema: toSchema(schema(), 'output') } } };
    }
    // Each error status the route may answer, with the codes it may carry there (docs/api.md has the same list).
    const codes = routeErrors(operation);
    for (const status of [...new Set(codes.map((code) => errorStatus[code]))].sort()) {
      responses[String(status)] = {
        description: `Error: ${codes.filter((code) => errorStatus[code] === status).join(', ')}`,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const entry: JsonObject = {
      operationId: operation,
      summary: spec.summary,
      tags: [spec.tag],
      ...(parameters.length > 0 && { parameters }),
      ...(spec.body && {
        requestBody: { required: false, content: { 'application/json': { schema: toSchema(spec.body(), 'input') } } },
      }),
      ...(spec.auth !== 'anonymous' && { security: [{ bearer: [] }], 'x-minimum-level': spec.auth }),
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
    },
  };
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
