import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const github = new FakeGitHub();
let api: TestApi;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  api = await startTestApi({
    env: {
      PROVISIONER_MEMORY: '1',
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_GITHUB_URL: github.url,
      PROVISIONER_GITHUB_CLIENT_ID: 'console-app',
      PROVISIONER_CATALOG: writeCatalog(testCatalog),
    },
  });
});
afterAll(async () => {
  await api.close();
  await github.stop();
});

beforeEach(() => {
  github.deviceToken = undefined;
  github.deviceError = 'access_denied';
  github.devicePendingPolls = 1;
  github.deviceRequests.length = 0;
  github.deviceAppError = undefined;
});

const start = () => api.call('POST', '/v1/login/device');
const poll = (deviceCode = 'device-1') => api.call('POST', '/v1/login/device/token', { body: { device_code: deviceCode } });

describe('the device login the console uses', () => {
  it('starts at GitHub with the configured client id and answers the code to show, not to be cached', async () => {
    const { status, body, headers } = await start();

    expect(status).toBe(200);
    expect(body).toEqual({ device_code: 'device-1', user_code: 'WDJB-MJHT', verification_uri: `${github.url}/login/device`, interval: 0, expires_in: 60 });
    expect(headers.get('cache-control')).toBe('no-store');
    expect(github.deviceRequests).toEqual([{ client_id: 'console-app', scope: 'read:org' }]);
  });

  it('answers 428 authorization_pending until the code is entered, then the same user JWT as /v1/login', async () => {
    github.deviceToken = 'gh-olga';
    await start();

    const pending = await poll();
    const done = await poll();

    expect([pending.status, pending.body.error.code]).toEqual([428, 'authorization_pending']);
    expect(done.status).toBe(200);
    expect(done.headers.get('cache-control')).toBe('no-store');
    expect(done.body).toMatchObject({ token_type: 'Bearer', user: { login: 'olga', level: 'org_member', orgs: ['acme'] } });
    expect(decodeJwt(done.body.token)).toMatchObject({ iss: api.url, aud: 'provisioner', sub: 'github:olga', level: 'org_member' });
    const whoami = await api.call('GET', '/v1/whoami', { token: done.body.token });
    expect(whoami.body).toEqual({ login: 'olga', level: 'org_member', orgs: ['acme'] });
    expect(github.deviceRequests.at(-1)).toEqual({ client_id: 'console-app', device_code: 'device-1', grant_type: 'urn:ietf:params:oauth:grant-type:device_code' });
  });

  it.each([
    ['slow_down', 429, 'slow_down'],
    ['expired_token', 400, 'device_code_expired'],
    ['access_denied', 403, 'device_flow_denied'],
  ])('maps GitHub\'s %s to %i %s', async (githubError, status, code) => {
    github.deviceError = githubError;
    await start();

    const answer = await poll();

    expect([answer.status, answer.body.error.code]).toEqual([status, code]);
    if (code === 'slow_down') expect(answer.headers.get('retry-after')).toBe('10');
  });

  it('answers an unknown device code 400 invalid_device_code, and a malformed one 400 invalid_request', async () => {
    expect((await poll('not-mine')).body.error.code).toBe('invalid_device_code');
    expect((await poll('has space')).body.error.code).toBe('invalid_request');
  });

  it('answers 503 github_unavailable when GitHub is down', async () => {
    github.down = true;
    try {
      expect((await start()).body.error.code).toBe('github_unavailable');
      expect((await poll()).status).toBe(503);
    } finally {
      github.down = false;
    }
  });

  it.each(['device_flow_disabled', 'incorrect_client_credentials'])('answers GitHub refusing the OAuth app (%s) 501 device_flow_not_configured, not as the caller\'s mistake', async (githubError) => {
    github.deviceAppError = githubError;

    const started = await start();
    const polled = await poll();

    for (const answer of [started, polled]) {
      expect([answer.status, answer.body.error.code]).toEqual([501, 'device_flow_not_configured']);
      expect(answer.body.error.message).toContain(`GitHub refused this API's OAuth app (${githubError})`);
    }
  });

  it('never echoes the GitHub token it obtained', async () => {
    github.deviceToken = 'gh-olga';
    github.devicePendingPolls = 0;
    await start();

    const { status, body } = await poll();

    expect(status).toBe(200);
    expect(JSON.stringify(body)).not.toContain('gh-olga');
  });
});

describe('without an OAuth app', () => {
  beforeAll(async () => {
    // One runtime is installed per process: replace the configured one.
    await api.close();
    api = await startTestApi({ env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_URL: github.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) } });
  });

  it('answers both device routes 501 device_flow_not_configured, without calling GitHub', async () => {
    const started = await start();
    const polled = await poll();

    expect([started.status, started.body.error.code]).toEqual([501, 'device_flow_not_configured']);
    expect([polled.status, polled.body.error.code]).toEqual([501, 'device_flow_not_configured']);
    expect(github.deviceRequests).toEqual([]);
  });
});
