import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalDynamo } from '../../src/adapters/local/dynalite.js';
import { taggedProcesses } from '../../src/adapters/local/process-workspaces.js';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { localTableName } from '../../src/config.js';
import { systemClock } from '../../src/domain/clock.js';
import { listKeys } from '../../src/store/keys.js';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/**
 * Issue 24's sweep for workspaces: `npm start` killed with SIGKILL 0.03–3 s into a create (45–55 ms
 * lands mid-create on this machine: claims taken, workspace recorded, process not yet), then
 * started again on the same data dir (its janitor runs at start). The workspace converges (ready,
 * or failed with a reason — never creating with nothing behind it), its name is free again once it
 * has no workspace, delete leaves no process tagged with its WORKSPACE_ID, and no schedule of it is
 * left to fire for nothing.
 */
const github = new FakeGitHub();
const dataDir = mkdtempSync(join(tmpdir(), 'provisioner-workspace-kill-'));
let api: ApiProcess;
const createTimeout = '10s';
const seen = new Set<string>();

async function login(): Promise<string> {
  return (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-olga' })).body.token as string;
}

async function deleteAndWait(id: string, token: string): Promise<void> {
  expect([200, 202]).toContain((await api.call('DELETE', `/v1/workspaces/${id}`, token)).status);
  await until(`${id} deleted`, async () => (await api.call('GET', `/v1/workspaces/${id}`, token)).status, (status) => status === 404);
  await until(`no process of ${id}`, async () => taggedProcesses(id), (left) => left.length === 0, 10_000);
}

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  // A short create timeout: a name claimed by a create that crashed before recording its workspace is free after it.
  const catalog = writeCatalog({ ...testCatalog, workspaces: { create_timeout: createTimeout } });
  api = new ApiProcess(await freePort(), { PROVISIONER_DATA_DIR: dataDir, PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: catalog });
});
afterAll(async () => {
  await api.stop();
  await github.stop();
  // Whatever failed, nothing of this suite outlives it.
  [...seen].flatMap(taggedProcesses).forEach((pid) => process.kill(pid, 'SIGKILL'));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 of npm start during a workspace create', () => {
  const outcomes: string[] = [];
  afterAll(() => {
    process.stdout.write(`kill -9 outcomes (offset: statuses after restart)\n${outcomes.join('\n')}\n`);
  });

  it.each([30, 45, 50, 55, 100, 300, 1000, 3000])('converges after a kill %i ms in; the name is free again and delete leaves no process', async (offset) => {
    await api.start();
    const name = `kill${offset}`;
    const creating = api.call('POST', '/v1/workspaces', await login(), { name }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, offset));
    await api.crash();
    await creating;
    await api.start();
    const token = await login();
    const { items } = (await api.call('GET', '/v1/workspaces?limit=100', token)).body as { items: { id: string; name: string; status: string }[] };
    const ours = items.filter((w) => w.name === name);
    outcomes.push(`${offset} ms: ${ours.map((w) => w.status).join(', ') || 'nothing written'}`);
    for (const { id } of ours) {
      seen.add(id);
      // The local backend can always start it: whatever the crash interrupted is driven on to ready.
      const settled = await until(`${id} to settle`, async () => (await api.call('GET', `/v1/workspaces/${id}`, token)).body,
        // An error answer (a 429 of the polling, a 503 while the store settles) is not a status: poll on; `until` names the last body if it never settles.
        (w) => typeof w.status === 'string' && w.status !== 'creating',
      );
      if (settled.status !== 'ready') process.stdout.write(`server output:\n${api.output.slice(-4000)}\n`);
      expect(settled).toMatchObject({ status: 'ready', reason: null });
      await deleteAndWait(id, token);
    }
    // With no workspace left, the name is free (a claim no recorded workspace holds: once a create would have timed out).
    const again = await until(`${name} free`, () => api.call('POST', '/v1/workspaces', token, { name }), (r) => r.status !== 409, 15_000);
    if (again.body.id) seen.add(again.body.id);
    expect([again.status, again.body.error]).toEqual([202, undefined]);
    await until(`${again.body.id} ready`, async () => (await api.call('GET', `/v1/workspaces/${again.body.id}`, token)).body, (w) => w.status === 'ready');
    await deleteAndWait(again.body.id, token);
    await api.stop();
  });

  it('leaves no schedule of a deleted workspace to fire later', async () => {
    await api.stop();
    const dynamo = await startLocalDynamo({ path: join(dataDir, 'dynamodb'), tableName: localTableName });
    try {
      const store = new DynamoStore(dynamo.client, localTableName, systemClock);
      const { items } = await store.query({ index: 'gsi1', partition: listKeys.schedules, limit: 1000 });
      expect(seen.size).toBeGreaterThan(0);
      // Of recorded workspaces (a create that crashed before recording leaves schedules that find no workspace and do nothing).
      const left = items.map((item) => String(item.name)).filter((name) => [...seen].some((id) => name.includes(`-${id}-`)));
      expect(left).toEqual([]);
    } finally {
      await dynamo.close();
    }
  });
});
