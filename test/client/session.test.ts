import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { ProvisionerApiError, Session } from '../../client/session.js';
import { closeServer, listenLocal } from '../support/http.js';

describe('the client session', () => {
  let server: Server;
  let url = '';
  const seen: string[] = [];
  const plan = new Map<string, { status: number; headers?: Record<string, string>; body: unknown }[]>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      const queue = plan.get(req.url ?? '') ?? [];
      const next = queue.length > 1 ? queue.shift() : queue[0];
      res.writeHead(next?.status ?? 404, { 'content-type': 'application/json', 'x-request-id': 'rid-1', ...next?.headers });
      res.end(JSON.stringify(next?.body ?? { error: { code: 'not_found', message: 'no' } }));
    });
    url = await listenLocal(server);
  });
  afterAll(() => closeServer(server));

  const session = (retries = 3) => new Session({ url, retries, timeoutMs: 2_000 }, async () => 'jwt-1', 1);

  it('retries 503 and 429 (honouring Retry-After), then returns the answer', async () => {
    plan.set('/flaky', [
      { status: 503, body: { error: { code: 'service_unavailable', message: 'later' } } },
      { status: 429, headers: { 'retry-after': '0' }, body: { error: { code: 'rate_limited', message: 'slow' } } },
      { status: 200, body: { ok: true } },
    ]);
    seen.length = 0;
    await expect(session().request('GET', '/flaky')).resolves.toEqual({ ok: true });
    expect(seen).toEqual(['GET /flaky Bearer jwt-1', 'GET /flaky Bearer jwt-1', 'GET /flaky Bearer jwt-1']);
  });

  it('gives up after the configured retries with the API\'s error', async () => {
    plan.set('/down', [{ status: 503, body: { error: { code: 'service_unavailable', message: 'down' } } }]);
    seen.length = 0;
    await expect(session(2).request('GET', '/down')).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(seen).toHaveLength(3);
  });

  it('never retries a 4xx, and carries its code, details and request id', async () => {
    plan.set('/bad', [{ status: 400, body: { error: { code: 'invalid_request', message: 'nodes: too big', details: { issues: [] } } } }]);
    seen.length = 0;
    const error = await session().request('POST', '/bad', { body: { nodes: 99 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionerApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', message: 'nodes: too big', details: { issues: [] }, requestId: 'rid-1' });
    expect(seen).toHaveLength(1);
  });

  it('retries network errors, then says the API is unreachable', async () => {
    const closed = new Session({ url: 'http://127.0.0.1:1', retries: 2, timeoutMs: 1_000 }, undefined, 1);
    await expect(closed.request('GET', '/v1/health')).rejects.toMatchObject({ status: 0, code: 'unreachable' });
  });

  it('times out a request that gets no answer', async () => {
    const silent = createServer(() => undefined);
    const silentUrl = await listenLocal(silent);
    const slow = new Session({ url: silentUrl, retries: 0, timeoutMs: 200 });
    await expect(slow.request('GET', '/')).rejects.toMatchObject({ code: 'timeout' });
    await closeServer(silent);
  });
});
