import { describe, expect, it } from '@jest/globals';
import type { Context } from 'aws-lambda';
import * as z from '../../src/zod.js';
import type { RouteSpec } from '../../src/api/routes.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { routeHandler } from '../../src/http/handler.js';
import { ok } from '../../src/http/reply.js';
import type { HttpEvent } from '../../src/http/types.js';

const spec = {
  method: 'POST',
  path: '/v1/things/{thing}',
  auth: 'anonymous',
  public: true,
  summary: 'test route',
  tag: 'test',
  params: () => z.object({ thing: z.string().check(z.regex(/^[a-z]+$/)) }),
  query: () => z.object({ limit: z._default(z.coerce.number().check(z.int(), z.lte(100)), 10) }),
  body: () => z.object({ nodes: z.number().check(z.int(), z.gte(1)), name: z.optional(z.string()) }),
  responses: { 200: () => z.object({ echoed: z.unknown() }) },
} as const satisfies RouteSpec;

function event(overrides: Partial<HttpEvent> = {}): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'POST /v1/things/{thing}',
    rawPath: '/v1/things/abc',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters: { thing: 'abc' },
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method: 'POST', path: '/v1/things/abc', protocol: 'HTTP/1.1', sourceIp: '10.1.2.3', userAgent: 'jest' },
      requestId: 'req-123',
      routeKey: 'POST /v1/things/{thing}',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    body: '{"nodes": 2}',
    isBase64Encoded: false,
    ...overrides,
  };
}

const context = {} as Context;
const echo = routeHandler('echo', spec, async (input) => ok({ echoed: input }), {});

describe('the HTTP middleware stack', () => {
  it('passes parsed and defaulted input to the operation', async () => {
    const result = await echo(event(), context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toEqual({ echoed: { params: { thing: 'abc' }, query: { limit: 10 }, body: { nodes: 2 } } });
    expect(result.headers?.['x-request-id']).toBe('req-123');
  });

  it('reads a base64 body', async () => {
    const result = await echo(event({ body: Buffer.from('{"nodes":3}').toString('base64'), isBase64Encoded: true }), context);
    expect(JSON.parse(result.body ?? '').echoed.body).toEqual({ nodes: 3 });
  });

  it('answers malformed JSON 400 invalid_json', async () => {
    const result = await echo(event({ body: '{"nodes": ' }), context);
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? '').error.code).toBe('invalid_json');
    expect(result.headers?.['x-request-id']).toBe('req-123');
  });

  it('answers a body over 64 KB 413 body_too_large in Lambda too, even base64-encoded', async () => {
    const big = JSON.stringify({ nodes: 2, name: 'x'.repeat(65 * 1024) });
    for (const body of [big, Buffer.from(big).toString('base64')]) {
      const result = await echo(event({ body, isBase64Encoded: body !== big }), context);
      expect([result.statusCode, JSON.parse(result.body ?? '').error.code]).toEqual([413, 'body_too_large']);
    }
  });

  it('answers a non-JSON content type 415', async () => {
    const result = await echo(event({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'nodes=2' }), context);
    expect(result.statusCode).toBe(415);
    expect(JSON.parse(result.body ?? '').error.code).toBe('unsupported_media_type');
  });

  it('accepts JSON with a charset or a +json type', async () => {
    const withCharset = await echo(event({ headers: { 'content-type': 'application/json; charset=utf-8' } }), context);
    const vendor = await echo(event({ headers: { 'content-type': 'application/vnd.api+json' } }), context);
    expect([withCharset.statusCode, vendor.statusCode]).toEqual([200, 200]);
  });

  it('names every bad field in a 400 invalid_request', async () => {
    const result = await echo(
      event({ pathParameters: { thing: 'ABC!' }, queryStringParameters: { limit: '500' }, body: '{"nodes": 0, "name": 7}' }),
      context,
    );
    expect(result.statusCode).toBe(400);
    const { error } = JSON.parse(result.body ?? '');
    expect(error.code).toBe('invalid_request');
    const where = error.details.issues.map((i: { location: string; path: string }) => `${i.location}.${i.path}`).sort();
    expect(where).toEqual(['body.name', 'body.nodes', 'path.thing', 'query.limit']);
    expect(error.message).toContain('body.nodes');
  });

  it('maps a ProvisionerError to its status and headers', async () => {
    const limited = routeHandler('limited', spec, async () => {
      throw new ProvisionerError('rate_limited', 'Slow down.', undefined, { 'retry-after': '7' });
    }, {});
    const result = await limited(event(), context);
    expect(result.statusCode).toBe(429);
    expect(result.headers?.['retry-after']).toBe('7');
    expect(JSON.parse(result.body ?? '')).toEqual({ error: { code: 'rate_limited', message: 'Slow down.' } });
  });

  it('answers an unexpected exception 500 internal_error without its message or stack', async () => {
    const broken = routeHandler('broken', spec, async () => {
      throw new Error('secret internal detail at /var/task/index.js:1');
    }, {});
    const result = await broken(event(), context);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('secret internal detail');
    expect(result.body).not.toContain('index.js');
    expect(JSON.parse(result.body ?? '').error).toMatchObject({ code: 'internal_error', details: { request_id: 'req-123' } });
  });

  it('retries dependency resolution after a failure instead of caching it', async () => {
    let attempts = 0;
    const flaky = routeHandler('flaky', spec, async () => ok({ echoed: attempts }), {
      thing: () => {
        attempts += 1;
        if (attempts === 1) throw new ProvisionerError('service_unavailable', 'not yet');
        return 'ready';
      },
    });
    expect((await flaky(event(), context)).statusCode).toBe(503);
    expect((await flaky(event(), context)).statusCode).toBe(200);
    expect((await flaky(event(), context)).statusCode).toBe(200);
    expect(attempts).toBe(2);
  });
});
