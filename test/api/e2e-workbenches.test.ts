import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort } from '../support/api-process.js';
import { runCli } from '../support/cli-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/** Workbenches end to end against `npm start`, through the CLI and the SDK behind it: real local processes. */
const github = new FakeGitHub();
let api: ApiProcess;
const dataDir = mkdtempSync(join(tmpdir(), 'provisioner-e2e-workbenches-'));
const cacheDir = mkdtempSync(join(tmpdir(), 'provisioner-e2e-workbenches-cli-'));

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-oscar', { login: 'oscar', orgs: { acme: 'active' } });
  api = new ApiProcess(await freePort(), { PROVISIONER_DATA_DIR: dataDir, PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) });
  await api.start();
});
afterAll(async () => {
  await api.stop();
  await github.stop();
});

const cli = (args: string[], token = 'gh-olga') => runCli(api.url, cacheDir, args, token);

const json = async (args: string[], token?: string) => {
  const result = await cli([...args, '--json'], token);
  expect({ code: result.code, stderr: result.stderr.slice(-500) }).toEqual({ code: 0, stderr: expect.any(String) });
  return JSON.parse(result.stdout);
};

describe('workbenches against npm start', () => {
  it('creates one, waits until running, reaches it, stops, starts (data kept), shares and deletes it', async () => {
    const created = await json(['workbench', 'create', 'AutoCyber', '--cpu', '512', '--memory', '1024', '--wait']);
    expect(created).toMatchObject({ name: 'AutoCyber', owner: 'github:olga', owner_login: 'olga', status: 'running', cpu: 512, memory: 1024 });
    expect(created.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const first = await (await fetch(created.endpoint)).json();
    expect(first).toMatchObject({ workbench: created.id, name: 'AutoCyber', owner: 'olga', starts: 1 });

    const listed = await json(['workbenches']);
    expect(listed.map((w: { id: string }) => w.id)).toContain(created.id);

    const stopped = await json(['workbench', 'stop', created.id, '--wait']);
    expect(stopped).toMatchObject({ status: 'stopped', endpoint: null, stops_at: null });
    await expect(fetch(created.endpoint)).rejects.toThrow();

    const started = await json(['workbench', 'start', created.id, '--wait']);
    expect(started.status).toBe('running');
    expect(Date.parse(started.stops_at) - Date.now()).toBeGreaterThan(11 * 3_600_000);
    expect(await (await fetch(started.endpoint)).json()).toMatchObject({ workbench: created.id, starts: 2 });

    expect((await cli(['workbench', 'status', created.id], 'gh-oscar')).code).not.toBe(0);
    expect((await json(['workbench', 'share', created.id, 'oscar'])).shares).toEqual(['oscar']);
    expect((await json(['workbench', 'status', created.id], 'gh-oscar')).status).toBe('running');
    expect((await cli(['workbench', 'delete', created.id], 'gh-oscar')).code).toBe(3);

    const deleted = await json(['workbench', 'delete', created.id]);
    expect(deleted.status).toBe('deleted');
    await expect(fetch(started.endpoint)).rejects.toThrow();
    expect(existsSync(join(dataDir, 'workbenches', created.id))).toBe(false);
    expect((await cli(['workbench', 'status', created.id])).code).not.toBe(0);
  }, 180_000);

  it('exits 2 on bad usage', async () => {
    expect((await cli(['workbench'])).code).toBe(2);
    expect((await cli(['workbench', 'create', 'x', '--memory', '1024'])).code).toBe(2);
    expect((await cli(['workbench', 'share', 'wb-000000000000'])).code).toBe(2);
  }, 60_000);
});
