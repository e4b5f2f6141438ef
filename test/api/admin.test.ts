import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProvisionerError } from '../../src/domain/errors.js';
import { systemCaller } from '../../src/domain/levels.js';
import { requestLog } from '../../src/log.js';
import { sweepClusters } from '../../src/operations/clusters/use-cases.js';
import { stuckItems } from '../../src/operations/admin/overview.js';
import type { ClusterCompute, Store } from '../../src/ports.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const MINUTE = 60_000;
const clock = new ManualClock(new Date());
const github = new FakeGitHub();
let api: TestApi;
let alice: string;
let olga: string;
let gil: string;
/** The local backend, and whether it refuses every destroy (a backend that never lets go). */
let compute: ClusterCompute;
let refuseDestroy = false;
/** The store's calls by method while the overview answers. */
const calls: string[] = [];

beforeAll(async () => {
  await github.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-gil', { login: 'gil' });
  api = await startTestApi({
    clock,
    env: { PROVISIONER_CATALOG: writeCatalog({ ...testCatalog, clusters: [...testCatalog.clusters, { name: 'acme-qa', visibility: 'private', backend: { kind: 'local' } }], limits: { org_member: { max_deployments: 1 } } }), PROVISIONER_GITHUB_API_URL: github.url },
  });
  const deps = api.runtime.deps;
  compute = deps.compute;
  const local = deps.compute;
  deps.compute = Object.assign(Object.create(local) as ClusterCompute, {
    destroy: async (deployment: Parameters<ClusterCompute['destroy']>[0]) => {
      if (refuseDestroy) throw new ProvisionerError('backend_unavailable', 'the backend refuses to let go');
      return local.destroy(deployment);
    },
  });
  const store = deps.store;
  deps.store = new Proxy(store, {
    get(target, name: keyof Store) {
      const value = target[name];
      return typeof value === 'function' ? (...args: unknown[]) => (calls.push(String(name)), (value as (...a: unknown[]) => unknown).apply(target, args)) : value;
    },
  });
  const login = async (token: string) => (await api.call('POST', '/v1/login', { body: { github_token: token } })).body.token as string;
  [alice, olga, gil] = [await login('gh-alice'), await login('gh-olga'), await login('gh-gil')];
});

afterAll(async () => {
  refuseDestroy = false;
  await api.call('POST', '/v1/clusters/acme-dev/destroy', { token: alice });
  await api.close();
  await github.stop();
});

async function untilStatus(cluster: string, status: string) {
  for (let i = 0; i < 200; i++) {
    const { body } = await api.call('GET', `/v1/clusters/${cluster}`, { token: alice });
    if (body.status === status) return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${cluster} never became ${status}`);
}

describe('the administrators\' routes', () => {
  it.each([
    ['GET', '/v1/admin/overview', undefined],
    ['POST', '/v1/admin/clusters/acme-dev/force-absent', { reason: 'x' }],
    ['POST', '/v1/admin/clusters/acme-dev/release-slot', { reason: 'x' }],
  ])('%s %s is for administrators only (403 for others, 401 without a login)', async (method, path, body) => {
    expect((await api.call(method, path, { token: olga, body })).body.error.code).toBe('forbidden');
    expect((await api.call(method, path, { token: gil, body })).status).toBe(403);
    expect((await api.call(method, path, { body })).status).toBe(401);
  });

  it.each([
    [{}, 'invalid_request'],
    [{ reason: '   ' }, 'invalid_request'],
    [{ reason: 'x'.repeat(501) }, 'invalid_request'],
    [{ reason: 'ok', extra: 1 }, 'invalid_request'],
  ])('an action without a reason, or with a bad one, is 400 (%j)', async (body, code) => {
    const answer = await api.call('POST', '/v1/admin/clusters/acme-dev/force-absent', { token: alice, body });
    expect([answer.status, answer.body.error.code]).toEqual([400, code]);
  });

  it('an unknown cluster is 404; a running one is 409 cluster_not_stuck, left as it is', async () => {
    expect((await api.call('POST', '/v1/admin/clusters/nope/force-absent', { token: alice, body: { reason: 'x' } })).status).toBe(404);
    await api.call('POST', '/v1/clusters/acme-qa/deploy', { token: olga, body: {} });
    await untilStatus('acme-qa', 'running');
    for (const action of ['force-absent', 'release-slot']) {
      const refused = await api.call('POST', `/v1/admin/clusters/acme-qa/${action}`, { token: alice, body: { reason: 'x' } });
      expect([refused.status, refused.body.error.code, refused.body.error.details.status]).toEqual([409, 'cluster_not_stuck', 'running']);
    }
    expect((await api.call('GET', '/v1/clusters/acme-qa', { token: alice })).body.status).toBe('running');
    await api.call('POST', '/v1/clusters/acme-qa/destroy', { token: olga });
    await untilStatus('acme-qa', 'absent');
  });
});

describe('a destroy the backend refuses forever, seen and fixed by an operator', () => {
  it('shows in the overview as stuck with its slot, then force-absent ends it, frees the slot, and the janitor sweeps what remains', async () => {
    // Arrange: olga's one deployment, destroyed while the backend refuses.
    await api.call('POST', '/v1/clusters/acme-dev/deploy', { token: olga, body: {} });
    await untilStatus('acme-dev', 'running');
    refuseDestroy = true;
    const refused = await api.call('POST', '/v1/clusters/acme-dev/destroy', { token: olga });
    expect(refused.status).toBe(503);
    expect((await api.call('POST', '/v1/clusters/acme-qa/deploy', { token: olga, body: {} })).body.error.code).toBe('deployment_limit_reached');

    // Act: an operator looks, before and after the operation timeout.
    const early = await api.call('GET', '/v1/admin/overview', { token: alice });
    clock.advance(11 * MINUTE);
    calls.length = 0;
    const late = await api.call('GET', '/v1/admin/overview', { token: alice });
    const overviewCalls = [...calls];

    // Assert: counted, not yet stuck, then stuck; the slot is olga's; answered by Queries only.
    expect(early.status).toBe(200);
    expect(early.body.areas.clusters).toMatchObject({ destroying: 1 });
    expect(early.body.stuck).toEqual([]);
    expect(late.body.stuck).toEqual([expect.objectContaining({ kind: 'cluster', id: 'acme-dev', status: 'destroying', owner: 'github:olga', reason: expect.stringContaining('refuses') })]);
    expect(late.body.slots).toEqual([{ deployer: 'github:olga', clusters: ['acme-dev'] }]);
    expect(late.headers.get('cache-control')).toBe('no-store');
    expect(new Set(overviewCalls.filter((name) => name !== 'increment'))).toEqual(new Set(['query', 'count']));
    expect(await stuckItems({ ...api.runtime.deps, clock })).toHaveLength(1);

    // Act: release the slot (the destroy goes on), then force it absent.
    const released = await api.call('POST', '/v1/admin/clusters/acme-dev/release-slot', { token: alice, body: { reason: 'EC2 keeps refusing; INC-42' } });
    expect([released.status, released.body.status]).toEqual([200, 'destroying']);
    const forced = await api.call('POST', '/v1/admin/clusters/acme-dev/force-absent', { token: alice, body: { reason: 'EC2 keeps refusing; INC-42' } });
    const again = await api.call('POST', '/v1/admin/clusters/acme-dev/force-absent', { token: alice, body: { reason: 'a retry' } });

    // Assert: absent, audited with the administrator and the reason; a retry answers the same; nothing stuck; olga may deploy again.
    expect([forced.status, forced.body.status, again.status, again.body.status]).toEqual([200, 'absent', 200, 'absent']);
    const trail = (await api.call('GET', '/v1/clusters/acme-dev/events?limit=3', { token: alice })).body.items;
    expect(trail.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'force-absent', actor: 'github:alice', from: 'destroying', to: 'absent', details: expect.objectContaining({ reason: 'EC2 keeps refusing; INC-42', administrator: 'github:alice' }) }),
      expect.objectContaining({ action: 'slot-released', actor: 'github:alice', details: expect.objectContaining({ deployer: 'github:olga' }) }),
    ]);
    const after = (await api.call('GET', '/v1/admin/overview', { token: alice })).body;
    expect([after.stuck, after.slots, after.areas.clusters.destroying]).toEqual([[], [], 0]);
    expect((await api.call('POST', '/v1/clusters/acme-qa/deploy', { token: olga, body: {} })).status).toBe(202);

    // The deployment's processes still run: the janitor sweeps them, nothing active owns them.
    const deps = api.runtime.deps;
    const swept = await sweepClusters({ ...deps, compute }, { caller: systemCaller('scheduler'), requestId: 'janitor', log: requestLog('janitor', 'janitor') });
    expect(swept.swept.map((s) => s.cluster)).toContain('acme-dev');
    refuseDestroy = false;
    await api.call('POST', '/v1/clusters/acme-qa/destroy', { token: olga });
  });
});
