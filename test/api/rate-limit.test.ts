import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

describe('rate limits from the catalog', () => {
  const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
  const github = new FakeGitHub();
  let api: TestApi;

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-gil', { login: 'gil' });
    github.users.set('gh-gwen', { login: 'gwen' });
    github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
    api = await startTestApi({
      clock,
      env: {
        PROVISIONER_MEMORY: '1',
        PROVISIONER_GITHUB_API_URL: github.url,
        PROVISIONER_CATALOG: writeCatalog({
          ...testCatalog,
          rate_limits: { anonymous: { requests: 3, per: '1m' }, github_member: { requests: 2, per: '1m' } },
        }),
      },
    });
  });
  afterAll(async () => {
    await api.close();
    await github.stop();
  });

  it('limits anonymous callers per network, answers 429 with Retry-After, and resets with the window', async () => {
    for (let i = 0; i < 3; i++) expect((await api.call('POST', '/v1/clusters/demo/access')).status).toBe(200);
    const over = await api.call('POST', '/v1/clusters/demo/access');
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(over.headers.get('retry-after')).toBe('60');
    clock.advance(15_000);
    expect((await api.call('GET', '/v1/whoami')).headers.get('retry-after')).toBe('45');
    clock.advance(45_000);
    expect((await api.call('POST', '/v1/clusters/demo/access')).status).toBe(200);
  });

  it('limits GitHub members per user, each on their own count, and leaves administrators alone', async () => {
    clock.advance(60_000);
    // Logging in counts against the (anonymous) network: three per window here.
    const gil = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-gil' } })).body.token;
    const gwen = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-gwen' } })).body.token;
    const alice = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-alice' } })).body.token;
    expect((await api.call('POST', '/v1/login', { body: { github_token: 'gh-gil' } })).status).toBe(429);

    for (let i = 0; i < 2; i++) expect((await api.call('GET', '/v1/whoami', { token: gil })).status).toBe(200);
    expect((await api.call('GET', '/v1/whoami', { token: gil })).status).toBe(429);
    expect((await api.call('GET', '/v1/whoami', { token: gwen })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await api.call('GET', '/v1/whoami', { token: alice })).status).toBe(200);
  });

  it('does not limit the public meta routes', async () => {
    for (let i = 0; i < 10; i++) expect((await api.call('GET', '/v1/health')).status).toBe(200);
  });
});
