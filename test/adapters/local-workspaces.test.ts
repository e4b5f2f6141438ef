import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { LocalProcessWorkspaces } from '../../src/adapters/local/process-workspaces.js';
import { alive, type ProcessRecord } from '../../src/adapters/local/processes.js';
import { workspaceKeys } from '../../src/store/keys.js';
import { startTestStore } from '../support/dynamo.js';
import { until } from '../support/api-process.js';

/** Issue 24.1: a local workspace process gets its values, PORT, WORKSPACE_ID and the essentials — never the server's environment. */
describe('local workspace processes', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  const logDir = mkdtempSync(join(tmpdir(), 'provisioner-ws-env-'));

  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore());
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('start with a minimal environment: no NODE_OPTIONS, no server secrets', async () => {
    process.env.PROVISIONER_TEST_SERVER_SECRET = 'server-only';
    const printEnvironment = [process.execPath, '-e', 'console.log(JSON.stringify(process.env))'];
    const workspaces = new LocalProcessWorkspaces(store, { command: printEnvironment, logDir, detached: false });
    try {
      await workspaces.create({ id: 'ws-00000000e0e0', name: 'env', owner: 'github:olga', expiresAt: '', versions: {}, environment: { PROVISIONER_VALUE_NODE_OPTIONS: '--import=x' } });
      const log = join(logDir, 'workspace-ws-00000000e0e0.log');
      const printed = await until('the environment printed', async () => { try { return readFileSync(log, 'utf8'); } catch { return ''; } }, (text) => text.includes('}'));
      const environment = JSON.parse(printed) as Record<string, string>;
      expect(environment).toMatchObject({ PROVISIONER_VALUE_NODE_OPTIONS: '--import=x', WORKSPACE_ID: 'ws-00000000e0e0', PORT: expect.stringMatching(/^\d+$/) });
      expect(environment.PATH).toBe(process.env.PATH);
      expect(Object.keys(environment).filter((name) => !['PATH', 'HOME', 'TMPDIR', 'LANG', 'PORT', 'WORKSPACE_ID'].includes(name) && !name.startsWith('PROVISIONER_VALUE_'))).toEqual([]);
    } finally {
      delete process.env.PROVISIONER_TEST_SERVER_SECRET;
      await workspaces.delete('ws-00000000e0e0');
    }
  });

  it('delete stops a process whose start a crash kept from being recorded (issue 24.7): every process is tagged with its workspace', async () => {
    const idle = [process.execPath, '-e', 'setInterval(() => {}, 1000)'];
    const workspaces = new LocalProcessWorkspaces(store, { command: idle, detached: true });
    const id = 'ws-00000000c0c0';
    await workspaces.create({ id, name: 'crash', owner: 'github:olga', expiresAt: '', versions: {}, environment: {} });
    const record = (await store.get(workspaceKeys.localProcess(id)))?.process as ProcessRecord;
    expect(alive(record)).toBe(true);
    // The crash: the process runs, its record was never written.
    await store.remove(workspaceKeys.localProcess(id));
    expect((await workspaces.status(id)).state).toBe('gone');
    await workspaces.delete(id);
    await until('the untracked process stopped', async () => alive(record), (running) => !running);
  });

  it('a start the janitor re-drives after a restart stops the process a crash kept from being recorded: one process per workspace', async () => {
    const idle = [process.execPath, '-e', 'setInterval(() => {}, 1000)'];
    const id = 'ws-00000000d0d0';
    const launch = { id, name: 'redrive', owner: 'github:olga', expiresAt: '', versions: {}, environment: {} };
    const crashed = new LocalProcessWorkspaces(store, { command: idle, detached: true });
    await crashed.create(launch);
    const orphan = (await store.get(workspaceKeys.localProcess(id)))?.process as ProcessRecord;
    await store.remove(workspaceKeys.localProcess(id));
    // The restarted server (a new adapter on the same store) starts the workspace again.
    const restarted = new LocalProcessWorkspaces(store, { command: idle, detached: true });
    try {
      await restarted.create(launch);
      const record = (await store.get(workspaceKeys.localProcess(id)))?.process as ProcessRecord;
      await until('the untracked process stopped', async () => alive(orphan), (running) => !running);
      expect(alive(record)).toBe(true);
    } finally {
      await restarted.delete(id);
    }
  });
});
