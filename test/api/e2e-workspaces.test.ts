import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/**
 * Workspaces end to end against `npm start`, with a real local process per workspace: create, wait
 * for ready, use it, check it is not expired, shorten the expiry to a minute, see the schedule delete it.
 */
describe('workspaces end to end over HTTP against npm start', () => {
  const github = new FakeGitHub();
  let api: ApiProcess;
  let olga: string;
  let id = '';

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
    api = new ApiProcess(await freePort(), {
      PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-e2e-ws-')),
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog({ ...testCatalog, workspaces: { template: { values: { 'console.theme': 'light' } } } }),
    });
    await api.start();
    olga = (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-olga' })).body.token;
  });

  afterAll(async () => {
    // Whatever happened above, leave no workspace process behind.
    try {
      if (id) await api.call('DELETE', `/v1/workspaces/${id}`, olga);
    } finally {
      await api.stop();
      await github.stop();
    }
  });

  it('creates a workspace that runs with its merged values, and deletes it at its (shortened) expiry', async () => {
    const created = await api.call('POST', '/v1/workspaces', olga, { name: 'olga-e2e', values: { 'pachd.logLevel': 'debug' } });
    expect([created.status, created.body.status]).toEqual([202, 'creating']);
    id = created.body.id;
    const ready = await until('workspace ready', () => api.call('GET', `/v1/workspaces/${id}`, olga), (r) => r.body.status === 'ready');
    const { connection, console: consoleUrl } = ready.body.endpoints as Record<string, string>;
    expect(connection).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    const answer = (await (await fetch(consoleUrl ?? '')).json()) as { workspace: string; values: Record<string, string> };
    expect(answer).toMatchObject({
      workspace: id,
      values: { PROVISIONER_VALUE_PACHD_LOGLEVEL: 'debug', PROVISIONER_VALUE_CONSOLE_THEME: 'light', PROVISIONER_VALUE_WORKSPACE_NAME: 'olga-e2e', PROVISIONER_VALUE_WORKSPACE_OWNER: 'github:olga' },
    });

    expect((await api.call('GET', `/v1/workspaces/${id}/expired`, olga)).body).toEqual({ expired: false, expires_at: ready.body.expires_at });
    const shortened = await api.call('PATCH', `/v1/workspaces/${id}`, olga, { expiry: '1m' });
    expect(shortened.status).toBe(200);
    expect(shortened.body.expires_in).toBeLessThanOrEqual(60);

    await until('workspace deleted', () => api.call('GET', `/v1/workspaces/${id}`, olga), (r) => r.status === 404, 90_000);
    const events = (await api.call('GET', `/v1/workspaces/${id}/events`, olga)).body.items as { action: string; actor: string }[];
    expect(events.slice(0, 2)).toMatchObject([{ action: 'deleted' }, { action: 'delete', actor: 'scheduler' }]);
    expect(events.map((e) => e.action)).toContain('workspace.expiring');
    await expect(fetch(consoleUrl ?? '')).rejects.toThrow();
    id = '';
  }, 150_000);
});
