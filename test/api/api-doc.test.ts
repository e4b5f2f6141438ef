import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { apiDocPath, renderApiDoc } from '../../local/api-doc.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { routeErrors } from '../../src/api/route-errors.js';
import { routeEntries } from '../../src/api/routes.js';
import { errorStatus } from '../../src/domain/errors.js';
import { checkAnswer } from '../support/conformance.js';

describe('docs/api.md', () => {
  it('is what npm run api-doc makes of the route table now', () => {
    const committed = readFileSync(apiDocPath, 'utf8');
    const fresh = renderApiDoc();
    if (committed !== fresh) {
      const line = fresh.split('\n').findIndex((text, i) => text !== committed.split('\n')[i]) + 1;
      throw new Error(`docs/api.md is stale: run npm run api-doc (first difference at line ${line}).`);
    }
  });

  it('documents every route, each with the error statuses the served OpenAPI lists for it', () => {
    const doc = renderApiDoc();
    const paths = openApiDocument().paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    for (const [operation, spec] of routeEntries) {
      expect(doc).toContain(`### \`${spec.method} ${spec.path}\` (${operation})`);
      // The console's pages are not part of the JSON contract the OpenAPI document describes.
      if (spec.file) continue;
      const served = Object.keys(paths[spec.path]?.[spec.method.toLowerCase()]?.responses ?? {}).filter((status) => Number(status) >= 400);
      const documented = [...new Set(routeErrors(operation).map((code) => String(errorStatus[code])))];
      expect([operation, served.sort()]).toEqual([operation, documented.sort()]);
    }
  });
});

describe('the OpenAPI document, complete enough to generate a client from', () => {
  type Entry = { requestBody?: { required: boolean }; security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown>; content: { 'application/json': { schema: any } } }> };
  const paths = () => openApiDocument().paths as Record<string, Record<string, Entry>>;
  const entryOf = (operation: string) => {
    const spec = routeEntries.find(([name]) => name === operation)![1];
    return paths()[spec.path]![spec.method.toLowerCase()]!;
  };
  /** The codes an error response allows: the enum of the plain variant plus each detailed variant's const. */
  const codesOf = (schema: any): string[] => {
    const error = schema.properties.error;
    const variants = error.oneOf ?? [error];
    return variants.flatMap((v: any) => v.properties.code.enum ?? [v.properties.code.const]).sort();
  };

  it('marks a body required exactly where an empty one is refused', () => {
    for (const operation of ['workbench-create', 'test-runner', 'release', 'workspace-update', 'login-device-token']) {
      expect([operation, entryOf(operation).requestBody?.required]).toEqual([operation, true]);
    }
    // Deploy takes every field from defaults: an empty body is a valid one.
    expect(entryOf('deploy').requestBody?.required).toBe(false);
  });

  it("lists each route's own error codes per status, not every code of the API", () => {
    for (const [operation, spec] of routeEntries) {
      if (spec.file) continue;
      const entry = entryOf(operation);
      for (const [status, response] of Object.entries(entry.responses)) {
        if (Number(status) < 400) continue;
        const expected = routeErrors(operation).filter((code) => String(errorStatus[code]) === status).sort();
        expect([operation, status, codesOf(response.content['application/json'].schema)]).toEqual([operation, status, expected]);
      }
    }
    // A code another route answers is not in this one's list.
    expect(codesOf(entryOf('get-cluster').responses['404']!.content['application/json'].schema)).toEqual(['cluster_not_found', 'not_found'].filter((code) => routeErrors('get-cluster').includes(code as never)));
  });

  it('gives details a schema where the code sends them', () => {
    const variants = entryOf('deploy').responses['400']!.content['application/json'].schema.properties.error.oneOf as any[];
    const invalid = variants.find((v) => v.properties.code.const === 'invalid_request');
    expect(invalid.properties.details.properties.issues.type).toBe('array');
    const conflicts = entryOf('deploy').responses['409']!.content['application/json'].schema.properties.error.oneOf as any[];
    expect(conflicts.find((v) => v.properties.code.const === 'version_mismatch').properties.details.properties.running_version).toEqual({ type: 'string' });
  });

  it('declares x-request-id on every response and Retry-After on 429 and 503', () => {
    for (const [operation, spec] of routeEntries) {
      if (spec.file) continue;
      for (const [status, response] of Object.entries(entryOf(operation).responses)) {
        expect([operation, status, Object.keys(response.headers ?? {})]).toEqual([operation, status, status === '429' || status === '503' ? ['x-request-id', 'retry-after'] : ['x-request-id']]);
      }
    }
  });

  it('says which routes are anonymous and which need a bearer JWT', () => {
    for (const [operation, spec] of routeEntries) {
      if (spec.file) continue;
      expect([operation, entryOf(operation).security]).toEqual([operation, spec.auth === 'anonymous' ? [] : [{ bearer: [] }]]);
    }
  });
});

describe('the conformance check every API suite runs on the answers it sees', () => {
  const headers = (names: Record<string, string>) => new Headers(names);
  it('passes an answer that fits, and refuses a wrong body, an undeclared status or a missing header', () => {
    const health = { status: 'ok', version: '0.1.0', time: new Date().toISOString() };
    expect(() => checkAnswer('GET', '/v1/health', 200, headers({ 'x-request-id': 'r' }), health)).not.toThrow();
    expect(() => checkAnswer('GET', '/v1/health', 200, headers({ 'x-request-id': 'r' }), { ...health, status: 5 })).toThrow(/does not allow/);
    expect(() => checkAnswer('GET', '/v1/health', 500, headers({ 'x-request-id': 'r' }), {})).toThrow(/does not declare/);
    expect(() => checkAnswer('GET', '/v1/health', 200, headers({}), health)).toThrow(/x-request-id/);
    // A code the route does not list is refused, though another route answers it.
    const notFound = { error: { code: 'workbench_not_found', message: 'no' } };
    expect(() => checkAnswer('GET', '/v1/clusters/demo', 404, headers({ 'x-request-id': 'r' }), notFound)).toThrow(/does not allow/);
    expect(() => checkAnswer('GET', '/v1/clusters/demo', 404, headers({ 'x-request-id': 'r' }), { error: { code: 'cluster_not_found', message: 'no' } })).not.toThrow();
  });
});
