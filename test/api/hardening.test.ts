import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/** Regressions of what an attacker tried against `npm start` (each failed before its fix). */
describe('abuse resistance', () => {
  const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
  const github = new FakeGitHub();
  let api: TestApi;
  let admin = '';

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
    api = await startTestApi({
      clock,
      env: {
        PROVISIONER_MEMORY: '1',
        PROVISIONER_GITHUB_API_URL: github.url,
        PROVISIONER_CATALOG: writeCatalog({ ...testCatalog, rate_limits: { anonymous: { requests: 5, per: '1m' } } }),
      },
    });
    admin = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-alice' } })).body.token;
  });
  afterAll(async () => {
    await api.close();
    await github.stop();
  });

  it('refuses a body over 64 KB with 413 body_too_large before reading it, on any route', async () => {
    const big = JSON.stringify({ github_token: 'x'.repeat(70 * 1024) });
    for (const path of ['/v1/login', '/v1/health']) {
      const response = await api.call('POST', path, { body: big });
      expect(response.status).toBe(413);
      expect(response.body.error.code).toBe('body_too_large');
      expect(response.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it('answers headers too large in the API error shape', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(api.url);
      const req = request({ host: url.hostname, port: url.port, path: '/v1/health', headers: { 'x-filler': 'y'.repeat(20_000) } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect(JSON.parse(body).error.code).toBe('headers_too_large');
  });

  it('never echoes a malformed body in invalid_json (it may hold a token)', async () => {
    const response = await api.call('POST', '/v1/login', { body: '{"github_token": ghp_secretsecret' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_json');
    expect(JSON.stringify(response.body)).not.toContain('ghp_secret');
  });

  it('answers a GitHub token with control characters 400, not a retryable 503', async () => {
    const response = await api.call('POST', '/v1/login', { body: { github_token: 'ghp_abc\u0000\r\ndef' } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain('github_token');
  });

  it("refuses a page cursor of another list with 400 invalid_next_token, never a 500", async () => {
    const otherList = Buffer.from(JSON.stringify({ pk: 'cluster#acme-dev', sk: 'state' })).toString('base64url');
    const otherPartition = Buffer.from(JSON.stringify({ pk: 'rate#x', sk: '1' })).toString('base64url');
    for (const token of [otherList, otherPartition, 'djA', 'v0', Buffer.from('v-1').toString('base64url')]) {
      const response = await api.call('GET', `/v1/clusters/demo/events?next_token=${token}`, { token: admin });
      expect([response.status, response.body.error.code]).toEqual([400, 'invalid_next_token']);
    }
    const list = await api.call('GET', `/v1/clusters?next_token=${Buffer.from('Not A Name').toString('base64url')}`);
    expect([list.status, list.body.error.code]).toEqual([400, 'invalid_next_token']);
  });

  it('counts requests with a refused token against their network’s anonymous limit', async () => {
    clock.advance(60_000); // a fresh window
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api.call('GET', '/v1/whoami', { token: `forged.${i}.token` })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });
});
