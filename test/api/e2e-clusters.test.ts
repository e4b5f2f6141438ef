import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

// End to end: real processes (the API, cluster nodes) start under whatever load the machine has.
jest.setTimeout(120_000);

/**
 * The Makefile flow end to end, against `npm start` with real local cluster processes: log in, deploy
 * the private cluster, use it with a cluster JWT, restart the API, schedule a destroy, see it fire.
 */
describe('clusters end to end over HTTP against npm start', () => {
  const github = new FakeGitHub();
  let api: ApiProcess;
  let olga: string;

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
    github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
    api = new ApiProcess(await freePort(), {
      PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-e2e-')),
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog({ ...testCatalog, limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 2 } } }),
    });
    await api.start();
    olga = (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-olga' })).body.token;
  });

  afterAll(async () => {
    // Whatever happened above, leave no cluster process behind.
    try {
      await api.start().catch(() => undefined);
      const alice = (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-alice' })).body.token;
      for (const cluster of ['acme-dev', 'demo']) await api.call('POST', `/v1/clusters/${cluster}/destroy`, alice);
    } finally {
      await api.stop();
      await github.stop();
    }
  });

  it('deploys the private cluster, which answers only its own cluster JWTs, across a restart, until a schedule destroys it', async () => {
    const started = await api.call('POST', '/v1/clusters/acme-dev/deploy', olga, { nodes: 2, version: 'v4.1.0' });
    expect([started.status, started.body.status]).toEqual([202, 'deploying']);
    const running = await until('acme-dev running', () => api.call('GET', '/v1/clusters/acme-dev', olga), (r) => r.body.status === 'running');
    expect(running.body.endpoints).toHaveLength(2);
    const [node] = running.body.endpoints as string[];

    const clusterJwt = (await api.call('POST', '/v1/clusters/acme-dev/access', olga)).body.token;
    const demoJwt = (await api.call('POST', '/v1/clusters/demo/access')).body.token;
    const ask = (token?: string) => fetch(`${node}/source/version`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const answered = await ask(clusterJwt);
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ cluster: 'acme-dev', version: 'v4.1.0', caller: 'github:olga', level: 'org_member' });
    expect((await ask()).status).toBe(401);
    expect((await ask(demoJwt)).status).toBe(401);
    expect((await ask(olga)).status).toBe(401);

    // A restart loses nothing: the cluster, its nodes and the keys are all still there.
    await api.stop();
    await api.start();
    expect((await api.call('GET', '/v1/clusters/acme-dev', olga)).body).toMatchObject({ status: 'running', endpoints: running.body.endpoints });
    expect((await ask(clusterJwt)).status).toBe(200);
    const newJwt = (await api.call('POST', '/v1/clusters/acme-dev/access', olga)).body.token;
    expect((await ask(newJwt)).status).toBe(200);

    // Schedule the destroy a moment ahead, and have it fall due while the API is down.
    const scheduled = await api.call('PUT', '/v1/clusters/acme-dev/destroy-schedule', olga, { in: '2s' });
    expect(scheduled.status).toBe(200);
    await api.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await api.start();
    const absent = await until('acme-dev absent', () => api.call('GET', '/v1/clusters/acme-dev', olga), (r) => r.body.status === 'absent');
    expect(absent.body).toMatchObject({ destroy_at: null, endpoints: [] });
    await expect(ask(clusterJwt)).rejects.toThrow();
    const events = (await api.call('GET', '/v1/clusters/acme-dev/events?limit=10', olga)).body.items.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`);
    expect(events.slice(0, 2)).toEqual(['absent:scheduler', 'destroy:scheduler']);
  });

  it('lets the public demo cluster answer without a token and refuse a forged one', async () => {
    const alice = (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-alice' })).body.token;
    expect((await api.call('POST', '/v1/clusters/demo/deploy', alice)).status).toBe(202);
    const running = await until('demo running', () => api.call('GET', '/v1/clusters/demo'), (r) => r.body.status === 'running');
    const [node] = running.body.endpoints as string[];
    expect((await fetch(`${node}/anything`)).status).toBe(200);
    const token = (await api.call('POST', '/v1/clusters/demo/access')).body.token as string;
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await fetch(`${node}/anything`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await fetch(`${node}/anything`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const destroyed = await api.call('POST', '/v1/clusters/demo/destroy', alice);
    expect([200, 202]).toContain(destroyed.status);
    await until('demo absent', () => api.call('GET', '/v1/clusters/demo'), (r) => r.body.status === 'absent');
  });
});
