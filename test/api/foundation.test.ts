import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { operations, routeEntries } from '../../src/api/routes.js';
import { version } from '../../src/version.js';
import { startTestApi, type TestApi } from '../support/local-api.js';

/** A path with well-formed parameters (the resources need not exist: input is checked first). */
function validPath(path: string, tag: string): string {
  const id = { workbenches: 'wb-0123456789ab', workspaces: 'ws-0123456789ab', runs: '00000000-0000-4000-8000-000000000000' }[tag] ?? 'x';
  return path.replace('{cluster}', 'demo').replace('{login}', 'bob').replace('{id}', id);
}

describe('the local API over HTTP', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ env: { PROVISIONER_MEMORY: '1' } });
  });
  afterAll(() => api.close());

  it('answers /v1/health with the package version', async () => {
    const { status, body, headers } = await api.call('GET', '/v1/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', version });
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get('content-type')).toBe('application/json');
  });

  it('says an anonymous caller is anonymous', async () => {
    const { status, body } = await api.call('GET', '/v1/whoami');
    expect(status).toBe(200);
    expect(body).toEqual({ login: null, level: 'anonymous', orgs: [] });
  });

  it('answers an unknown route 404 not_found in the error shape, with a request id', async () => {
    const { status, body, headers } = await api.call('GET', '/v1/nothing-here');
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'not_found' });
    expect(body.error.message).toContain('/v1/nothing-here');
    expect(headers.get('x-request-id')).toBeTruthy();
  });

  it('answers a wrong method 405 method_not_allowed with Allow', async () => {
    const { status, body, headers } = await api.call('DELETE', '/v1/health');
    expect(status).toBe(405);
    expect(body.error.code).toBe('method_not_allowed');
    expect(headers.get('allow')).toBe('GET');
  });

  it('answers a malformed path parameter or paging query of any route 400 invalid_request', async () => {
    // Every path parameter of the table (cluster names, ids, logins), before any authentication.
    for (const [operation, spec] of routeEntries) {
      if (!spec.path.includes('{')) continue;
      const response = await api.call(spec.method, spec.path.replace(/\{\w+\}/g, 'Not_A_Name!'), { body: spec.body ? {} : undefined });
      expect([operation, response.status, response.body.error.code]).toEqual([operation, 400, 'invalid_request']);
    }
    for (const [operation, spec] of routeEntries) {
      if (!spec.query) continue;
      for (const query of ['limit=0', 'limit=101', 'limit=ten']) {
        const response = await api.call(spec.method, `${validPath(spec.path, spec.tag)}?${query}`);
        expect([operation, query, response.status, response.body.error.code]).toEqual([operation, query, 400, 'invalid_request']);
      }
    }
  });

  it('answers a body of the wrong shape on any route that takes one 400 invalid_request, before authentication', async () => {
    for (const [operation, spec] of routeEntries) {
      if (!spec.body) continue;
      const response = await api.call(spec.method, validPath(spec.path, spec.tag), { body: ['not', 'an', 'object'] });
      expect([operation, response.status, response.body.error.code]).toEqual([operation, 400, 'invalid_request']);
    }
  });

  it('serves an OpenAPI 3.1 document naming every route of the table', async () => {
    const { status, body } = await api.call('GET', '/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    for (const [operation, spec] of routeEntries) {
      // The console's files are pages for a browser, not operations of the API.
      expect(body.paths[spec.path]?.[spec.method.toLowerCase()]?.operationId).toBe(spec.file ? undefined : operation);
    }
  });
});

describe('the route table', () => {
  it('has one handler module per operation, as CDK and the local server expect', () => {
    for (const operation of operations) {
      expect(existsSync(new URL(`../../lambdas/${operation}/index.ts`, import.meta.url))).toBe(true);
    }
  });

  it('has unique method and path pairs', () => {
    const keys = routeEntries.map(([, spec]) => `${spec.method} ${spec.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keeps src/version.ts equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version).toBe(pkg.version);
  });
});
