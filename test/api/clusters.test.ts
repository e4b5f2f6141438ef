import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { systemCaller } from '../../src/domain/levels.js';
import { scheduledDestroy } from '../../src/operations/clusters/use-cases.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const github = new FakeGitHub();
const compute = new FakeCompute();
let api: TestApi;
const token: Record<'gil' | 'olga' | 'alice' | 'oscar', string> = { gil: '', olga: '', alice: '', oscar: '' };
const minutes = (n: number) => n * 60_000;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-gil', { login: 'gil' });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-oscar', { login: 'oscar', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  api = await startTestApi({
    clock,
    deps: { compute },
    env: {
      PROVISIONER_MEMORY: '1',
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog({
        ...testCatalog,
        limits: { org_member: { max_nodes: 4, max_ttl: '12h', max_deployments: 2 } },
        clusters: [
          ...testCatalog.clusters,
          { name: 'acme-qa', visibility: 'private', backend: { kind: 'local' } },
          { name: 'acme-x', visibility: 'private', backend: { kind: 'local' } },
          { name: 'acme-race', visibility: 'private', backend: { kind: 'local' } },
        ],
      }),
    },
  });
  for (const login of Object.keys(token) as (keyof typeof token)[]) {
    token[login] = (await api.call('POST', '/v1/login', { body: { github_token: `gh-${login}` } })).body.token;
  }
});
afterAll(async () => {
  await api.close();
  await github.stop();
});

const get = (cluster: string, as = token.alice) => api.call('GET', `/v1/clusters/${cluster}`, { token: as });
const deploy = (cluster: string, as: string | undefined, body: unknown = {}) => api.call('POST', `/v1/clusters/${cluster}/deploy`, { token: as, body });
const destroy = (cluster: string, as = token.alice) => api.call('POST', `/v1/clusters/${cluster}/destroy`, { token: as });
const schedule = (cluster: string, body: unknown, as = token.alice) => api.call('PUT', `/v1/clusters/${cluster}/destroy-schedule`, { token: as, body });
const fireDue = () => (api.runtime.deps.scheduler as StoreScheduler).fireDue();

/** Destroys a cluster to absent, whatever it is doing. */
async function reset(cluster: string): Promise<void> {
  const response = await destroy(cluster);
  if (response.body.status !== 'absent') {
    compute.set(cluster, 'gone');
    expect((await get(cluster)).body.status).toBe('absent');
  }
}

describe('who may deploy', () => {
  it.each<[string, 'gil' | 'olga' | 'alice' | undefined, string, number]>([
    ['anonymous', undefined, 'acme-dev', 401],
    ['a GitHub member, a private cluster they cannot see (as if it did not exist)', 'gil', 'acme-dev', 404],
    ['a GitHub member, a public cluster', 'gil', 'demo', 403],
    ['an org member, a private cluster', 'olga', 'acme-dev', 202],
    ['an org member, a public cluster', 'olga', 'demo', 403],
    ['an administrator, a public cluster', 'alice', 'demo', 202],
  ])('%s', async (_who, login, cluster, status) => {
    const response = await deploy(cluster, login ? token[login] : undefined);
    expect(response.status).toBe(status);
    if (status === 202) {
      expect(response.body).toMatchObject({ name: cluster, status: 'deploying' });
      await reset(cluster);
    }
  });
});

describe('deploy', () => {
  beforeEach(() => reset('acme-dev'));

  it('starts one deployment with a 10-minute deadline, answers 202 while deploying and 200 once running', async () => {
    const before = compute.deployed.length;
    const first = await deploy('acme-dev', token.alice, { nodes: 3, version: 'v4.1.0' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'deploying', nodes: 3, version: 'v4.1.0', deployed_by: 'github:alice', deadline: new Date(clock.now().getTime() + minutes(10)).toISOString() });
    expect((await deploy('acme-dev', token.alice)).status).toBe(202);
    expect(compute.deployed.length).toBe(before + 1);
    compute.set('acme-dev', 'running', ['http://10.0.0.1']);
    const running = await get('acme-dev');
    expect(running.body).toMatchObject({ status: 'running', endpoints: ['http://10.0.0.1'], deadline: null });
    const again = await deploy('acme-dev', token.alice);
    expect([again.status, again.body.status]).toEqual([200, 'running']);
    expect(compute.deployed.length).toBe(before + 1);
  });

  it('fails a deployment not running by its deadline, with the reason, and removes what it started', async () => {
    await deploy('acme-dev', token.alice);
    const id = compute.latest('acme-dev');
    clock.advance(minutes(10) - 1);
    expect((await get('acme-dev')).body.status).toBe('deploying');
    clock.advance(1);
    const failed = await get('acme-dev');
    expect(failed.body).toMatchObject({ status: 'failed', reason: expect.stringContaining('deadline') });
    expect(compute.destroyed).toContain(id);
  });

  it('fails the deployment at its deadline by the scheduled check, without anyone reading it', async () => {
    await deploy('acme-dev', token.alice);
    clock.advance(minutes(10));
    await fireDue();
    const events = (await api.call('GET', '/v1/clusters/acme-dev/events', { token: token.alice })).body.items;
    expect(events[0]).toMatchObject({ action: 'failed', from: 'deploying', to: 'failed', actor: 'scheduler' });
  });

  it('refuses a cluster that is being destroyed with 409 scheduled_for_delete', async () => {
    await deploy('acme-dev', token.alice);
    await destroy('acme-dev');
    const response = await deploy('acme-dev', token.alice);
    expect([response.status, response.body.error.code]).toEqual([409, 'scheduled_for_delete']);
  });

  it('bounds nodes by the cluster and the org member limits, and validates the body', async () => {
    expect((await deploy('acme-dev', token.alice, { nodes: 9 })).status).toBe(400);
    expect((await deploy('acme-dev', token.olga, { nodes: 5 })).body.error.message).toMatch(/at most 4/);
    expect((await deploy('acme-dev', token.olga, { ttl: '13h' })).status).toBe(400);
    expect((await deploy('acme-dev', token.olga, { nodes: 'three' })).body.error.details.issues[0]).toMatchObject({ location: 'body', path: 'nodes' });
    expect((await deploy('acme-dev', token.olga, { colour: 'red' })).status).toBe(400);
    expect(compute.deployed.filter((d) => d.cluster === 'acme-dev' && d.nodes > 4)).toEqual([]);
  });

  it('refuses a version that a user-data script or an SSM path could read as something else (an option, a parent, shell)', async () => {
    const before = compute.deployed.length;
    for (const version of ['--help', '-rf', '.', '..', '../prod', 'v1/../../prod', 'v1;reboot', '$(id)', 'v1 v2', '/abs']) {
      const refused = await deploy('acme-dev', token.olga, { version });
      expect([version, refused.status, refused.body.error?.details?.issues?.[0]?.path]).toEqual([version, 400, 'version']);
    }
    expect(compute.deployed.length).toBe(before);
  });

  it('always gives an org member\'s deployment a destroy schedule no later than max_ttl', async () => {
    const response = await deploy('acme-dev', token.olga);
    expect(response.body.destroy_at).toBe(new Date(clock.now().getTime() + 12 * 3600_000).toISOString());
    const shorter = await deploy('acme-qa', token.olga, { ttl: '2h' });
    expect(shorter.body.destroy_at).toBe(new Date(clock.now().getTime() + 2 * 3600_000).toISOString());
    const third = await deploy('acme-x', token.olga);
    expect([third.status, third.body.error.code]).toEqual([409, 'deployment_limit_reached']);
    expect((await deploy('acme-x', token.oscar)).status).toBe(202);
    await reset('acme-qa');
    await reset('acme-x');
  });

  it('starts exactly max_deployments of 20 parallel deploys by one member across clusters, and frees a slot when one ends', async () => {
    // Arrange: acme-dev still holds one of olga's two slots (previous test); free it.
    await reset('acme-dev');
    const clusters = ['acme-dev', 'acme-qa', 'acme-x', 'acme-race'];

    // Act
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => deploy(clusters[i % clusters.length] ?? '', token.olga)));

    // Assert: exactly two clusters deploying, every other answer 409 or the same deployment.
    const states = await Promise.all(clusters.map(async (c) => (await get(c)).body.status));
    expect(states.filter((s) => s === 'deploying')).toHaveLength(2);
    expect(answers.every((a) => a.status === 202 || (a.status === 409 && a.body.error.code === 'deployment_limit_reached'))).toBe(true);
    const deployed = clusters.filter((_, i) => states[i] === 'deploying');
    const waiting = clusters.find((_, i) => states[i] !== 'deploying') ?? '';
    await reset(deployed[0] ?? '');
    expect((await deploy(waiting, token.olga)).status).toBe(202);
    for (const c of clusters) await reset(c);
  });

  it('marks the cluster failed and answers 503 when the backend refuses to start it', async () => {
    compute.failDeploy = true;
    try {
      const response = await deploy('acme-dev', token.alice);
      expect([response.status, response.body.error.code]).toEqual([503, 'backend_unavailable']);
      expect((await get('acme-dev')).body).toMatchObject({ status: 'failed', reason: expect.stringContaining('capacity') });
    } finally {
      compute.failDeploy = false;
    }
  });
});

describe('schedule destroy: the 5-minute lock', () => {
  beforeEach(async () => {
    await reset('acme-dev');
    await deploy('acme-dev', token.alice);
    compute.set('acme-dev', 'running');
    await get('acme-dev');
  });

  it('sets, replaces, and refuses to move a schedule from exactly 5 minutes before it', async () => {
    const at = new Date(clock.now().getTime() + minutes(60));
    expect((await schedule('acme-dev', { at: at.toISOString() })).body.destroy_at).toBe(at.toISOString());
    clock.set(new Date(at.getTime() - minutes(5) - 1).toISOString());
    const moved = await schedule('acme-dev', { in: '1h' });
    expect(moved.status).toBe(200);
    const movedAt = Date.parse(moved.body.destroy_at);
    clock.set(new Date(movedAt - minutes(5)).toISOString());
    const locked = await schedule('acme-dev', { in: '2h' });
    expect([locked.status, locked.body.error.code]).toEqual([409, 'schedule_locked']);
    const cancel = await api.call('DELETE', '/v1/clusters/acme-dev/destroy-schedule', { token: token.alice });
    expect([cancel.status, cancel.body.error.code]).toEqual([409, 'schedule_locked']);
  });

  it('cancels a schedule outside the lock, and fires the current one only', async () => {
    const first = await schedule('acme-dev', { in: '30m' });
    const second = await schedule('acme-dev', { in: '40m' });
    expect(second.body.destroy_at).not.toBe(first.body.destroy_at);
    const cancelled = await api.call('DELETE', '/v1/clusters/acme-dev/destroy-schedule', { token: token.alice });
    expect([cancelled.status, cancelled.body.destroy_at]).toEqual([200, null]);
    clock.advance(minutes(41));
    await fireDue();
    expect((await get('acme-dev')).body.status).toBe('running');
  });

  it('ignores a replaced schedule that fires anyway', async () => {
    await schedule('acme-dev', { in: '30m' });
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const deps = api.runtime.deps;
    expect(await scheduledDestroy(deps, { caller: systemCaller('scheduler'), requestId: 'r', log }, 'acme-dev', 'an-old-schedule-id')).toBe('stale');
    expect((await get('acme-dev')).body.status).toBe('running');
  });

  it('refuses a time in the past, beyond the limit, or both forms at once', async () => {
    expect((await schedule('acme-dev', { at: new Date(clock.now().getTime() - 1000).toISOString() })).status).toBe(400);
    expect((await schedule('acme-dev', { in: '31d' })).status).toBe(400);
    expect((await schedule('acme-dev', { in: '1h', at: new Date().toISOString() })).status).toBe(400);
    expect((await schedule('acme-dev', { in: 'soon' })).status).toBe(400);
    expect((await schedule('acme-dev', { in: '1h' }, token.gil)).status).toBe(404);
  });

  it('keeps an org member within max_ttl of the deployment, and their schedule from being cancelled', async () => {
    await reset('acme-qa');
    await deploy('acme-qa', token.olga);
    expect((await schedule('acme-qa', { in: '13h' }, token.olga)).status).toBe(400);
    expect((await schedule('acme-qa', { in: '11h' }, token.olga)).status).toBe(200);
    expect((await api.call('DELETE', '/v1/clusters/acme-qa/destroy-schedule', { token: token.olga })).status).toBe(403);
    await reset('acme-qa');
  });

  it('destroys the cluster when the schedule fires, then reaches absent', async () => {
    await schedule('acme-dev', { in: '10m' });
    clock.advance(minutes(10));
    await fireDue();
    expect((await get('acme-dev')).body.status).toBe('destroying');
    compute.set('acme-dev', 'gone');
    expect((await get('acme-dev')).body).toMatchObject({ status: 'absent', destroy_at: null, nodes: 0 });
  });
});

describe('destroy', () => {
  it('answers 200 and changes nothing for an absent cluster', async () => {
    await reset('acme-dev');
    const eventsBefore = (await api.call('GET', '/v1/clusters/acme-dev/events?limit=100', { token: token.alice })).body.items.length;
    const response = await destroy('acme-dev');
    expect([response.status, response.body.status]).toEqual([200, 'absent']);
    expect((await api.call('GET', '/v1/clusters/acme-dev/events?limit=100', { token: token.alice })).body.items.length).toBe(eventsBefore);
  });

  it('keeps a destroy that is not done within its deadline destroying, with the reason, and drives it again', async () => {
    await reset('acme-dev');
    await deploy('acme-dev', token.alice);
    expect((await destroy('acme-dev')).status).toBe(202);
    clock.advance(minutes(10));
    expect((await get('acme-dev')).body).toMatchObject({ status: 'destroying', reason: expect.stringContaining('not gone') });
    compute.set('acme-dev', 'gone');
    expect((await get('acme-dev')).body).toMatchObject({ status: 'absent', reason: null });
  });

  it('answers 503 with Retry-After when the backend refuses, and stays destroying until a retry succeeds', async () => {
    await reset('acme-dev');
    await deploy('acme-dev', token.alice);
    compute.failDestroy = true;
    try {
      const refused = await destroy('acme-dev');
      expect([refused.status, refused.body.error.code, refused.headers.get('retry-after')]).toEqual([503, 'backend_unavailable', '30']);
      expect((await get('acme-dev')).body).toMatchObject({ status: 'destroying', reason: expect.stringContaining('refused') });
    } finally {
      compute.failDestroy = false;
    }
    const retried = await destroy('acme-dev');
    expect([retried.status, retried.body.status]).toEqual([202, 'destroying']);
    compute.set('acme-dev', 'gone');
    expect((await destroy('acme-dev')).body.status).toBe('absent');
  });
});

describe('the OpenAPI document', () => {
  it('lists the degraded status and the mismatch errors', async () => {
    const { body } = await api.call('GET', '/v1/openapi.json');
    const status = body.paths['/v1/clusters/{cluster}'].get.responses['200'].content['application/json'].schema.properties.status;
    expect(status.enum).toEqual(['absent', 'deploying', 'running', 'degraded', 'destroying', 'failed']);
    expect(body.components.schemas.Error.properties.error.properties.code.enum).toEqual(expect.arrayContaining(['version_mismatch', 'nodes_mismatch']));
  });
});

describe('deploy asks for what runs', () => {
  beforeEach(async () => {
    await reset('acme-dev');
    await deploy('acme-dev', token.alice, { nodes: 2, version: 'v4.1.0' });
    compute.set('acme-dev', 'running', ['http://10.0.0.1', 'http://10.0.0.2']);
  });

  it('answers 200 for the same nodes and version (or none asked), 409 naming what runs otherwise', async () => {
    for (const body of [{}, { nodes: 2 }, { version: 'v4.1.0' }, { nodes: 2, version: 'v4.1.0' }]) {
      const same = await deploy('acme-dev', token.alice, body);
      expect([same.status, same.body.status]).toEqual([200, 'running']);
    }
    const version = await deploy('acme-dev', token.alice, { version: 'v4.2.0' });
    expect([version.status, version.body.error.code, version.body.error.details]).toEqual([409, 'version_mismatch', { running_version: 'v4.1.0' }]);
    expect(version.body.error.message).toContain('v4.1.0');
    const nodes = await deploy('acme-dev', token.alice, { nodes: 3 });
    expect([nodes.status, nodes.body.error.code, nodes.body.error.details]).toEqual([409, 'nodes_mismatch', { running_nodes: 2 }]);
  });

  it('repairs a cluster that lost a node: degraded on read, then DEPLOY starts the missing node', async () => {
    compute.driftOnRead = true;
    try {
      expect((await get('acme-dev')).body.status).toBe('running');
      compute.set('acme-dev', 'degraded', ['http://10.0.0.1'], 'node 1 exited');
      expect((await get('acme-dev')).body).toMatchObject({ status: 'degraded', reason: 'node 1 exited' });
      const repair = await deploy('acme-dev', token.alice);
      expect([repair.status, repair.body.status, repair.body.nodes, repair.body.version]).toEqual([202, 'deploying', 2, 'v4.1.0']);
      expect(compute.deployed.at(-1)).toMatchObject({ cluster: 'acme-dev', nodes: 2, version: 'v4.1.0', repair: expect.any(String) });
      compute.set('acme-dev', 'running', ['http://10.0.0.1', 'http://10.0.0.3']);
      expect((await get('acme-dev')).body).toMatchObject({ status: 'running', reason: null, endpoints: ['http://10.0.0.1', 'http://10.0.0.3'] });
    } finally {
      compute.driftOnRead = false;
    }
  });
});

describe('concurrency against dynalite', () => {
  it('starts exactly one deployment for 50 concurrent deploys', async () => {
    await reset('acme-race');
    const before = compute.deployed.filter((d) => d.cluster === 'acme-race').length;
    const responses = await Promise.all(Array.from({ length: 50 }, () => deploy('acme-race', token.alice)));
    expect(responses.map((r) => r.status).every((s) => s === 202)).toBe(true);
    expect(compute.deployed.filter((d) => d.cluster === 'acme-race').length).toBe(before + 1);
    await reset('acme-race');
  });

  it('leaves one consistent state when a destroy races a deploy', async () => {
    await reset('acme-race');
    const [deployed, destroyed] = await Promise.all([deploy('acme-race', token.alice), destroy('acme-race')]);
    const final = (await get('acme-race')).body.status;
    expect(['deploying', 'destroying', 'absent']).toContain(final);
    if (final === 'deploying') expect(destroyed.body.status).toBe('absent');
    if (final === 'destroying') expect(deployed.status).toBe(202);
    await reset('acme-race');
  });
});

describe('lists and events', () => {
  it('lists what the caller may see, paged', async () => {
    const anonymous = await api.call('GET', '/v1/clusters');
    expect(anonymous.body.items.map((c: { name: string }) => c.name)).toEqual(['demo']);
    const first = await api.call('GET', '/v1/clusters?limit=2', { token: token.olga });
    expect(first.body.items).toHaveLength(2);
    const second = await api.call('GET', `/v1/clusters?limit=10&next_token=${first.body.next_token}`, { token: token.olga });
    const names = [...first.body.items, ...second.body.items].map((c: { name: string }) => c.name);
    expect(names).toEqual(['acme-dev', 'acme-qa', 'acme-race', 'acme-x', 'demo']);
    expect(second.body.next_token).toBeUndefined();
    expect((await api.call('GET', '/v1/clusters?next_token=%%%')).status).toBe(400);
  });

  it('hides private clusters from outsiders as not found', async () => {
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token: token.gil })).status).toBe(404);
  });

  it('keeps an audit trail, newest first, paged', async () => {
    await reset('acme-dev');
    await deploy('acme-dev', token.alice);
    await destroy('acme-dev');
    const page = await api.call('GET', '/v1/clusters/acme-dev/events?limit=2', { token: token.alice });
    expect(page.body.items.map((e: { action: string }) => e.action)).toEqual(['destroy', 'deploy']);
    expect(page.body.items[1]).toMatchObject({ actor: 'github:alice', from: 'absent', to: 'deploying', request_id: expect.any(String) });
    expect(page.body.next_token).toBeDefined();
    compute.set('acme-dev', 'gone');
  });
});
