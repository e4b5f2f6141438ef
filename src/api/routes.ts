import type * as z from '../zod.js';
import type { Level } from '../domain/levels.js';
import { health, identity, jsonDocument } from './schemas.js';

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
  summary: string;
  tag: string;
  params?: z.ZodMiniObject;
  query?: z.ZodMiniObject;
  body?: z.ZodMiniType;
  responses: Partial<Record<200 | 201 | 202 | 204, z.ZodMiniType>>;
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
    summary: 'Liveness of the API',
    tag: 'meta',
    responses: { 200: health },
  }),
  openapi: route({
    method: 'GET',
    path: '/v1/openapi.json',
    auth: 'anonymous',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    responses: { 200: jsonDocument },
  }),
  whoami: route({
    method: 'GET',
    path: '/v1/whoami',
    auth: 'anonymous',
    summary: 'Who the bearer token says the caller is',
    tag: 'identity',
    responses: { 200: identity },
  }),
} as const;

export type Routes = typeof routes;
export type Operation = keyof Routes;
export const operations = Object.keys(routes) as Operation[];

/** The table as plain entries, for code that walks every route (CDK, OpenAPI, the matcher, tests). */
export const routeEntries = Object.entries(routes) as [Operation, RouteSpec][];

/** `GET /v1/clusters/{cluster}`: the route key API Gateway uses, and the local server too. */
export function routeKey(spec: RouteSpec): string {
  return `${spec.method} ${spec.path}`;
}

/** The operation that answers requests no route matches (404 or 405), in AWS and locally. */
export const fallbackOperation = 'fallback';
