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

  describe('when the API refuses the user JWT (401 invalid_token)', () => {
    // A server that honours only jwt-2, as after a key rotation or a wiped server.
    let strict: Server;
    let strictUrl = '';
    const sent: string[] = [];
    beforeAll(async () => {
      strict = createServer((req, res) => {
        sent.push(req.headers.authorization ?? '-');
        const ok = req.headers.authorization === 'Bearer jwt-2';
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { ok: true } : { error: { code: 'invalid_token', message: 'The bearer token was refused.' } }));
      });
      strictUrl = await listenLocal(strict);
    });
    afterAll(() => closeServer(strict));

    const refusing = (renew: (refused: string) => string | undefined) => {
      const refusals: string[] = [];
      const token = async (refused?: string) => {
        if (refused === undefined) return 'jwt-1';
        refusals.push(refused);
        return renew(refused);
      };
      return { session: new Session({ url: strictUrl, retries: 3, timeoutMs: 2_000 }, token, 1), refusals };
    };

    it('asks for a new token once, naming the refused one, and retries once with it', async () => {
      // Arrange
      const { session, refusals } = refusing(() => 'jwt-2');
      sent.length = 0;

      // Act
      const answer = await session.request('POST', '/v1/clusters/demo/deploy', { body: {} });

      // Assert
      expect(answer).toEqual({ ok: true });
      expect(refusals).toEqual(['jwt-1']);
      expect(sent).toEqual(['Bearer jwt-1', 'Bearer jwt-2']);
    });

    it('gives up with the 401 when no other token can be had, or the new one is refused too', async () => {
      for (const renewed of ['jwt-1', undefined, 'jwt-3']) {
        // Arrange
        const { session } = refusing(() => renewed);
        sent.length = 0;

        // Act
        const error = await session.request('GET', '/v1/whoami').catch((e: unknown) => e);

        // Assert
        expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
        expect(sent).toEqual(renewed === 'jwt-3' ? ['Bearer jwt-1', 'Bearer jwt-3'] : ['Bearer jwt-1']);
      }
    });
  });

  it('times out a request that gets no answer', async () => {
    const silent = createServer(() => undefined);
    const silentUrl = await listenLocal(silent);
    const slow = new Session({ url: silentUrl, retries: 0, timeoutMs: 200 });
    await expect(slow.request('GET', '/')).rejects.toMatchObject({ code: 'timeout' });
    await closeServer(silent);
  });
});
