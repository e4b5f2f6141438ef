import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalWorkbenchCompute } from '../../src/adapters/local/process-workbenches.js';
import { freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/**
 * Issue 24, point 7, as the report measured it: `npm start` killed with SIGKILL 0.03–0.15 s into a
 * create, then started again (its janitor runs at start). Every workbench converges (running, or
 * failed with a reason — never provisioning with nothing behind it), and after delete no workbench
 * process of this data dir is left.
 */
const github = new FakeGitHub();
const dataDir = mkdtempSync(join(tmpdir(), 'provisioner-workbench-kill-'));
const runtime = resolve(dataDir);
let port: number;
let server: ChildProcess | undefined;
let catalog: string;

async function startServer(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    env: { ...process.env, PROVISIONER_LOG_LEVEL: 'WARN', PROVISIONER_DATA_DIR: dataDir, PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: catalog, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let output = '';
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not start: ${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => fail(new Error(`npm start exited ${code}: ${output}`)));
  });
}

async function killServer(signal: NodeJS.Signals): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill(signal);
  });
}

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  port = await freePort();
  catalog = writeCatalog({ ...testCatalog, workbenches: { limits: { org_member: { count: 10, cpu: 1024, memory: 4096 } } } });
});
afterAll(async () => {
  await killServer('SIGTERM');
  await github.stop();
  // Whatever failed, nothing of this suite outlives it.
  LocalWorkbenchCompute.tagged(runtime).forEach(({ pid }) => process.kill(pid, 'SIGKILL'));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 of npm start during a create', () => {
  const outcomes: string[] = [];
  afterAll(() => {
    process.stdout.write(`kill -9 outcomes (offset: statuses after restart)\n${outcomes.join('\n')}\n`);
  });

  it.each([30, 60, 100, 150])('converges after a kill %i ms in, and delete leaves no process', async (offset) => {
    await startServer();
    const token = (await call('POST', '/v1/login', undefined, { github_token: 'gh-olga' })).body.token as string;
    const creating = call('POST', '/v1/workbenches', token, { name: `kill${offset}`, cpu: 512, memory: 1024 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, offset));
    await killServer('SIGKILL');
    await creating;
    await startServer();
    const fresh = (await call('POST', '/v1/login', undefined, { github_token: 'gh-olga' })).body.token as string;
    const { items } = (await call('GET', '/v1/workbenches?limit=100', fresh)).body as { items: { id: string; status: string }[] };
    outcomes.push(`${offset} ms: ${items.map((w) => w.status).join(', ') || 'nothing written'}`);
    for (const { id } of items) {
      const settled = await until(`${id} to settle`, async () => (await call('GET', `/v1/workbenches/${id}`, fresh)).body, (w) => ['running', 'failed'].includes(w.status));
      if (settled.status === 'failed') expect(settled.reason).toEqual(expect.any(String));
      expect((await call('DELETE', `/v1/workbenches/${id}`, fresh)).status).toBe(200);
    }
    await until('no workbench process left', async () => LocalWorkbenchCompute.tagged(runtime), (left) => left.length === 0, 10_000);
    await killServer('SIGTERM');
  });
});
