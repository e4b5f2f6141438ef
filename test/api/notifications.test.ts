import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { scheduledDispatch } from '../../local/server.js';
import { systemCaller } from '../../src/domain/levels.js';
import { requestLog } from '../../src/log.js';
import { deliverNotification } from '../../src/operations/notifications/notify.js';
import type { StoredItem } from '../../src/ports.js';
import type { ScheduleTarget } from '../../src/scheduling/targets.js';
import { listKeys, notificationKeys } from '../../src/store/keys.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeWorkbenches } from '../support/fake-workbenches.js';
import { FakeWorkspaces } from '../support/fake-workspaces.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const secret = 'test-webhook-secret-0123456789';
const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const github = new FakeGitHub();
const compute = new FakeCompute();
const workspaceBackend = new FakeWorkspaces();
const workbenchCompute = new FakeWorkbenches();
const minute = 60_000;
const hour = 60 * minute;
let api: TestApi;
let token = '';
let goneUrl = '';

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { text: string; event: string; kind: string; id: string; name?: string; owner?: string; at?: string; details?: Record<string, unknown> };
}

/** A webhook receiver on 127.0.0.1 that records what it gets and answers as told (or never). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  attempts = 0;
  private server?: Server;
  private hanging: ServerResponse[] = [];
  constructor(private readonly answer: number | 'hang') {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      request.on('end', () => {
        this.attempts++;
        this.deliveries.push({ headers: request.headers, raw, body: JSON.parse(raw) as Delivery['body'] });
        if (this.answer === 'hang') this.hanging.push(response);
        else response.writeHead(this.answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  of(event: string, id: string): Delivery[] {
    return this.deliveries.filter((d) => d.body.event === event && d.body.id === id);
  }
}

const good = new Receiver(204);
const gone = new Receiver(410);
const failing = new Receiver(500);
const hanging = new Receiver('hang');

/** Verifies a delivery as a receiver would: HMAC-SHA256 of the exact body bytes, compared in constant time. */
function verified(delivery: Delivery): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(delivery.raw).digest('hex')}`);
  const given = Buffer.from(String(delivery.headers['x-provisioner-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function until(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lets the in-process scheduler run what is due now (notify calls are due at once). */
const fireDue = () => (api.runtime.deps.scheduler as StoreScheduler).fireDue();

/** The local scheduler's pending schedules of a target, with their payloads. */
async function pending(target: ScheduleTarget, match: (payload: Record<string, any>) => boolean): Promise<StoredItem[]> {
  const { items } = await api.runtime.deps.store.query({ index: 'gsi1', partition: listKeys.schedules, limit: 1000 });
  return items.filter((item) => item.target === target && match(item.payload as Record<string, any>));
}

/** Fires a schedule as EventBridge Scheduler may: `earlyMs` before its time (taken off the queue first, as a firing does). */
async function fireEarly(item: StoredItem, earlyMs = minute): Promise<void> {
  clock.set(new Date(Date.parse(String(item.at)) - earlyMs).toISOString());
  await api.runtime.deps.store.remove({ pk: item.pk, sk: item.sk });
  await (await scheduledDispatch())(item.target as ScheduleTarget, item.payload);
}

async function logIn(): Promise<void> {
  token = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-alice' } })).body.token;
}

beforeAll(async () => {
  await github.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  const [goodUrl, failingUrl, hangingUrl] = [await good.start(), await failing.start(), await hanging.start()];
  goneUrl = await gone.start();
  api = await startTestApi({
    clock,
    deps: { compute, workspaceBackend, workbenchCompute },
    env: {
      PROVISIONER_MEMORY: '1',
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_WEBHOOK_SECRET: secret,
      PROVISIONER_CATALOG: writeCatalog({
        ...testCatalog,
        clusters: [...testCatalog.clusters, { name: 'acme-qa', visibility: 'private', backend: { kind: 'local' } }, { name: 'acme-stuck', visibility: 'private', backend: { kind: 'local' } }],
        workbenches: { providers: [{ name: 'small', max_cpu: 2048, max_memory: 8192, cost: 1 }], max_runtime: '4h', endpoint: 'https://cloud.example.com/{owner}/{id}' },
        notifications: {
          webhooks: [
            { url: goodUrl, events: ['expiring', 'failed', 'degraded', 'stuck'] },
            { url: failingUrl, events: ['failed'] },
            { url: hangingUrl, events: ['failed'] },
          ],
        },
      }),
    },
  });
  // Retries and the per-attempt cut-off, shortened for the test (the defaults are 1 s, 4 s and 5 s).
  api.runtime.deps.webhooks = { ...api.runtime.deps.webhooks, retryDelaysMs: [20, 40], attemptTimeoutMs: 300 };
});
beforeEach(logIn);
afterAll(async () => {
  await api.close();
  await Promise.all([github.stop(), good.stop(), failing.stop(), hanging.stop(), gone.stop()]);
});

describe('workspace reminders (the notice timer, 24 h and expiring_notice before the expiry)', () => {
  it('tells 24 h and 1 h before, early firings included; an extension moves them, a replaced one and a deleted workspace tell nothing', async () => {
    const created = await api.call('POST', '/v1/workspaces', { token, body: { expiry: '3d' } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    workspaceBackend.set(id, { state: 'running', host: '10.0.0.7', port: 30650 });
    expect((await api.call('GET', `/v1/workspaces/${id}`, { token })).body.status).toBe('ready');
    const notices = await pending('workspace-timer', (p) => p.workspace === id && p.timer === 'notice');
    expect(notices.map((n) => n.at).sort()).toEqual([new Date(Date.parse(created.body.expires_at) - 24 * hour).toISOString(), new Date(Date.parse(created.body.expires_at) - hour).toISOString()]);

    // The 24 h reminder fires a minute early: delivered, signed, and the notice is not yet recorded.
    const [early, last] = notices.sort((a, b) => String(a.at).localeCompare(String(b.at)));
    await fireEarly(early!);
    await until(() => good.of('expiring', id).length === 1);
    const [delivery] = good.of('expiring', id);
    expect(verified(delivery!)).toBe(true);
    expect(delivery!.headers['x-provisioner-event']).toBe('expiring');
    expect(delivery!.headers['x-provisioner-delivery']).toEqual(expect.any(String));
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.body).toMatchObject({ event: 'expiring', kind: 'workspace', id, owner: 'github:alice', at: created.body.expires_at, details: { in: '24h' } });
    expect(delivery!.body.text).toContain('in 24h');

    // Extended: the old notices are gone, new ones made; the replaced one, fired anyway, tells nothing.
    await logIn();
    const extended = await api.call('PATCH', `/v1/workspaces/${id}`, { token, body: { expiry: '4d' } });
    expect(extended.status).toBe(200);
    expect(await pending('workspace-timer', (p) => p.workspace === id && p.timer === 'notice' && p.schedule_id === (last!.payload as { schedule_id: string }).schedule_id)).toEqual([]);
    const moved = await pending('workspace-timer', (p) => p.workspace === id && p.timer === 'notice');
    expect(moved.map((n) => n.at).sort()).toEqual([new Date(Date.parse(extended.body.expires_at) - 24 * hour).toISOString(), new Date(Date.parse(extended.body.expires_at) - hour).toISOString()]);
    await fireEarly(last!);
    await fireDue();
    expect(good.of('expiring', id)).toHaveLength(1);

    // The 1 h notice fires 80 s early: recorded as workspace.expiring and told.
    const final = moved.sort((a, b) => String(b.at).localeCompare(String(a.at)))[0]!;
    await fireEarly(final, 80_000);
    await until(() => good.of('expiring', id).length === 2);
    expect(good.of('expiring', id)[1]!.body.details).toEqual({ in: '1h' });
    await logIn();
    const trail = (await api.call('GET', `/v1/workspaces/${id}/events`, { token })).body.items as { action: string }[];
    expect(trail.map((e) => e.action)).toContain('workspace.expiring');

    // Deleted: no notice left.
    await logIn();
    const another = (await api.call('POST', '/v1/workspaces', { token, body: { expiry: '3d' } })).body.id as string;
    expect(await pending('workspace-timer', (p) => p.workspace === another && p.timer === 'notice')).toHaveLength(2);
    expect((await api.call('DELETE', `/v1/workspaces/${another}`, { token })).status).toBeLessThan(300);
    expect(await pending('workspace-timer', (p) => p.workspace === another && p.timer === 'notice')).toEqual([]);
  });

  it('makes no reminder whose time is already past', async () => {
    const created = await api.call('POST', '/v1/workspaces', { token, body: { expiry: '2h' } });
    const notices = await pending('workspace-timer', (p) => p.workspace === created.body.id && p.timer === 'notice');
    expect(notices.map((n) => n.at)).toEqual([new Date(Date.parse(created.body.expires_at) - hour).toISOString()]);
  });
});

describe('scheduled destroy reminders', () => {
  it('are made with the schedule, moved by a reschedule, removed by a cancel; a replaced one does nothing, an early one is told', async () => {
    const at = new Date(clock.now().getTime() + 3 * 24 * hour);
    expect((await api.call('POST', '/v1/clusters/acme-qa/deploy', { token, body: {} })).status).toBe(202);
    compute.set('acme-qa', 'running');
    expect((await api.call('GET', '/v1/clusters/acme-qa', { token })).body.status).toBe('running');
    expect((await api.call('PUT', '/v1/clusters/acme-qa/destroy-schedule', { token, body: { at: at.toISOString() } })).status).toBe(200);
    const first = await pending('notify', (p) => p.notification.id === 'acme-qa');
    expect(first.map((r) => r.at).sort()).toEqual([new Date(at.getTime() - 24 * hour).toISOString(), new Date(at.getTime() - hour).toISOString()]);

    const later = new Date(at.getTime() + 24 * hour);
    expect((await api.call('PUT', '/v1/clusters/acme-qa/destroy-schedule', { token, body: { at: later.toISOString() } })).status).toBe(200);
    const moved = await pending('notify', (p) => p.notification.id === 'acme-qa');
    expect(moved.map((r) => r.at).sort()).toEqual([new Date(later.getTime() - 24 * hour).toISOString(), new Date(later.getTime() - hour).toISOString()]);

    // A replaced reminder that fires anyway (its cancel lost) finds another schedule id: nothing told.
    await fireEarly(first[0]!);
    await fireDue();
    expect(good.of('expiring', 'acme-qa')).toEqual([]);

    const oneHour = moved.find((r) => String(r.name).endsWith('-1h'))!;
    await fireEarly(oneHour, 85_000);
    await until(() => good.of('expiring', 'acme-qa').length === 1);
    const [told] = good.of('expiring', 'acme-qa');
    expect(verified(told!)).toBe(true);
    expect(told!.headers['x-provisioner-delivery']).toBe(oneHour.name);
    expect(told!.body).toMatchObject({ kind: 'cluster', id: 'acme-qa', name: 'acme-qa', at: later.toISOString(), details: { reason: 'scheduled-destroy', in: '1h' } });

    await logIn();
    expect((await api.call('DELETE', '/v1/clusters/acme-qa/destroy-schedule', { token })).status).toBe(200);
    expect(await pending('notify', (p) => p.notification.id === 'acme-qa')).toEqual([]);
  });
});

describe('workbench auto-stop reminders', () => {
  it('comes 15 min before the auto-stop, is made again by a start, goes with a stop or a delete', async () => {
    const created = await api.call('POST', '/v1/workbenches', { token, body: { name: 'bench', cpu: 1024, memory: 2048 } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    workbenchCompute.set(id, 'running');
    expect((await api.call('GET', `/v1/workbenches/${id}`, { token })).body.status).toBe('running');
    const [reminder] = await pending('notify', (p) => p.notification.id === id);
    const stopsAt = Date.parse(created.body.stops_at ?? (await api.call('GET', `/v1/workbenches/${id}`, { token })).body.stops_at);
    expect(reminder?.at).toBe(new Date(stopsAt - 15 * minute).toISOString());
    await fireEarly(reminder!);
    await until(() => good.of('expiring', id).length === 1);
    expect(good.of('expiring', id)[0]!.body).toMatchObject({ kind: 'workbench', details: { reason: 'auto-stop', in: '15m' } });

    await logIn();
    expect((await api.call('POST', `/v1/workbenches/${id}/stop`, { token })).status).toBeLessThan(300);
    expect(await pending('notify', (p) => p.notification.id === id)).toEqual([]);
    workbenchCompute.set(id, 'stopped');
    expect((await api.call('GET', `/v1/workbenches/${id}`, { token })).body.status).toBe('stopped');
    expect((await api.call('POST', `/v1/workbenches/${id}/start`, { token })).status).toBeLessThan(300);
    expect(await pending('notify', (p) => p.notification.id === id)).toHaveLength(1);
    expect((await api.call('DELETE', `/v1/workbenches/${id}`, { token })).status).toBeLessThan(300);
    expect(await pending('notify', (p) => p.notification.id === id)).toEqual([]);
  });
});

describe('failures', () => {
  it('tells a failed deploy at once; a receiver answering 500 is retried then recorded as undelivered, one that hangs blocks nothing', async () => {
    compute.failDeploy = true;
    const began = Date.now();
    const refused = await api.call('POST', '/v1/clusters/acme-dev/deploy', { token, body: {} });
    compute.failDeploy = false;
    expect(refused.status).toBe(503);
    // The answer did not wait for any receiver (the hanging one alone is cut at 300 ms per attempt, thrice).
    expect(Date.now() - began).toBeLessThan(900);
    await until(() => good.of('failed', 'acme-dev').length === 1);
    const [told] = good.of('failed', 'acme-dev');
    expect(verified(told!)).toBe(true);
    expect(told!.body).toMatchObject({ event: 'failed', kind: 'cluster', id: 'acme-dev', owner: 'github:alice' });
    expect(told!.body.text).toContain('capacity');

    // Three attempts each, then one undelivered record per receiver that never took it: its host and last status, no secret.
    await until(async () => (await api.runtime.deps.store.query({ partition: notificationKeys.undelivered, limit: 100 })).items.filter((i) => i.id === 'acme-dev').length === 2);
    expect(failing.of('failed', 'acme-dev')).toHaveLength(3);
    expect(hanging.of('failed', 'acme-dev')).toHaveLength(3);
    const records = (await api.runtime.deps.store.query({ partition: notificationKeys.undelivered, limit: 100 })).items.filter((i) => i.id === 'acme-dev');
    expect(records.map((r) => r.last_status).sort()).toEqual(['HTTP 500', 'timed out']);
    expect(records.every((r) => r.action === 'notification-undelivered' && typeof r.host === 'string')).toBe(true);
    expect(JSON.stringify(records)).not.toContain(secret);
    // The same delivery id on every attempt, so a receiver can dedupe.
    expect(new Set(failing.of('failed', 'acme-dev').map((d) => d.headers['x-provisioner-delivery'])).size).toBe(1);
  });

  it('never fails an operation: a scheduler refusing notify calls is logged, and the operation answers as always', async () => {
    const scheduler = api.runtime.deps.scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    let refusedCalls = 0;
    scheduler.schedule = async (call) => {
      if (call.target !== 'notify') return schedule(call);
      refusedCalls++;
      throw new Error('Scheduler throttled');
    };
    try {
      // acme-qa still runs from the reminders' test.
      expect((await api.call('GET', '/v1/clusters/acme-qa', { token })).body.status).toBe('running');
      const at = new Date(clock.now().getTime() + 3 * 24 * hour).toISOString();
      const scheduled = await api.call('PUT', '/v1/clusters/acme-qa/destroy-schedule', { token, body: { at } });
      expect([scheduled.status, scheduled.body.destroy_at]).toEqual([200, at]);
      expect(refusedCalls).toBe(2);
    } finally {
      scheduler.schedule = schedule;
    }
  });

  it('tells a degraded cluster', async () => {
    compute.driftOnRead = true;
    try {
      expect((await api.call('POST', '/v1/clusters/demo/deploy', { token, body: {} })).status).toBe(202);
      compute.set('demo', 'running');
      expect((await api.call('GET', '/v1/clusters/demo', { token })).body.status).toBe('running');
      compute.set('demo', 'degraded', [], '1 of 1 nodes lost');
      expect((await api.call('GET', '/v1/clusters/demo', { token })).body.status).toBe('degraded');
      await until(() => good.of('degraded', 'demo').length === 1);
      expect(good.of('degraded', 'demo')[0]!.body.text).toContain('1 of 1 nodes lost');
    } finally {
      compute.driftOnRead = false;
    }
  });

  it('tells a workbench start that fails', async () => {
    workbenchCompute.failStart = true;
    try {
      const refused = await api.call('POST', '/v1/workbenches', { token, body: { name: 'doomed', cpu: 1024, memory: 2048 } });
      expect(refused.status).toBe(503);
    } finally {
      workbenchCompute.failStart = false;
    }
    await until(() => good.deliveries.some((d) => d.body.event === 'failed' && d.body.kind === 'workbench' && d.body.name === 'doomed'));
    const told = good.deliveries.find((d) => d.body.kind === 'workbench' && d.body.name === 'doomed');
    expect(verified(told!)).toBe(true);
    expect(told!.body.text).toContain('no capacity');
  });

  it('tells a failed run, naming its failing step', async () => {
    expect((await api.call('POST', '/v1/clusters/acme-dev/deploy', { token, body: {} })).status).toBe(202);
    compute.set('acme-dev', 'running', ['http://127.0.0.1:9/acme-dev']);
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token })).body.status).toBe('running');
    const started = await api.call('POST', '/v1/clusters/acme-dev/tests', { token, body: { version: 'main' } });
    expect(started.status).toBe(202);
    await until(() => good.of('failed', started.body.id).length === 1, 15_000);
    const [told] = good.of('failed', started.body.id);
    expect(verified(told!)).toBe(true);
    expect(told!.body).toMatchObject({ kind: 'run', owner: 'github:alice', details: { status: 'failed', cluster: 'acme-dev', failed_step: 'known-failure' } });
  });

  it('tells a destroy refused past its deadline once, not at every re-armed check', async () => {
    expect((await api.call('POST', '/v1/clusters/acme-stuck/deploy', { token, body: {} })).status).toBe(202);
    compute.set('acme-stuck', 'running');
    expect((await api.call('GET', '/v1/clusters/acme-stuck', { token })).body.status).toBe('running');
    compute.failDestroy = true;
    try {
      expect((await api.call('POST', '/v1/clusters/acme-stuck/destroy', { token })).status).toBe(503);
      for (let check = 0; check < 3; check++) {
        clock.advance(11 * minute);
        await fireDue();
      }
      await until(() => good.of('stuck', 'acme-stuck').length === 1);
      await fireDue();
      expect(good.of('stuck', 'acme-stuck')).toHaveLength(1);
      expect(good.of('stuck', 'acme-stuck')[0]!.body.text).toContain('RequestLimitExceeded');
    } finally {
      compute.failDestroy = false;
    }
  });
});

describe('the notify target', () => {
  const actor = { caller: systemCaller('scheduler'), requestId: 'notify-test', log: requestLog('notify-test', 'test') };
  const notification = { event: 'failed' as const, kind: 'cluster' as const, id: 'demo', text: 'Cluster demo failed' };

  it('does not retry a receiver that refuses the request itself (a 4xx other than 408 and 429)', async () => {
    const deps = { ...api.runtime.deps, catalog: { ...api.runtime.deps.catalog, notifications: { webhooks: [{ url: goneUrl, events: ['failed' as const] }] } } };
    expect(await deliverNotification(deps, actor, { delivery: 'd-410', notification })).toEqual({ delivered: 0, undelivered: 1 });
    expect(gone.attempts).toBe(1);
  });

  it('does nothing for a reminder whose item is gone, or records another id', async () => {
    const reminder = { delivery: 'r-1', notification: { ...notification, event: 'expiring' as const, id: 'no-such-cluster' }, guard: { field: 'schedule_id', value: 'abc', statuses: ['running'] } };
    expect(await deliverNotification(api.runtime.deps, actor, reminder)).toBe('stale');
    const demo = { ...reminder, notification: { ...reminder.notification, id: 'demo' } };
    expect(await deliverNotification(api.runtime.deps, actor, demo)).toBe('stale');
    expect(good.deliveries.filter((d) => d.headers['x-provisioner-delivery'] === 'r-1')).toEqual([]);
  });
});
