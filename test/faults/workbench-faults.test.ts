import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { LocalWorkbenchCompute } from '../../src/adapters/local/process-workbenches.js';
import type { Store, WorkbenchTask } from '../../src/ports.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';

/**
 * Issue 24, points 1 and 7 (local backend): a workbench process gets a minimal environment, and
 * every process carries its workbench, run and runtime, so one whose record a crash lost is still
 * found by stop, delete and the janitor's sweep.
 */
const clock = new ManualClock();
let dynamo: LocalDynamo;
let store: DynamoStore;
let dataDir: string;
const runtime = `test-${process.pid}`;
/** Writes its environment to `<data>/env.json`, then idles like a workbench. */
const envDumper = [process.execPath, '-e', "require('fs').mkdirSync(process.env.WORKBENCH_DATA,{recursive:true});require('fs').writeFileSync(process.env.WORKBENCH_DATA+'/env.json',JSON.stringify(process.env));setInterval(()=>{},1000)"];

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  dataDir = mkdtempSync(join(tmpdir(), 'workbench-faults-'));
});
afterAll(async () => {
  // Nothing of this suite outlives it, whatever failed.
  LocalWorkbenchCompute.tagged(runtime).forEach(({ pid }) => process.kill(pid, 'SIGKILL'));
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let next = 0;
function task(): WorkbenchTask {
  const n = next++;
  return { workbenchId: `wb-00000000000${n}`, runId: `run${n}`, name: 'MY_VAR=1; rm -rf /', owner: 'github:olga', ownerLogin: 'olga', cpu: 1024, memory: 2048, gpu: 0, capacityProvider: 'default', dedicatedInstance: false };
}

function backend(over: Store = store) {
  return new LocalWorkbenchCompute(over, { command: envDumper, dataDir, detached: false, runtime });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

/** Pids of live processes tagged with this run (read from /proc, as the backend does). */
function tagged(runId: string): number[] {
  return LocalWorkbenchCompute.tagged(runtime).filter((p) => p.runId === runId).map((p) => p.pid);
}

/** A store whose record writes never end: the process started, its record never written (the server died in between). */
const losingRecords = (real: Store): Store =>
  new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'createIfAbsent') return () => new Promise(() => undefined);
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('local workbench processes', () => {
  it('get a minimal environment: never the server\'s own variables, only fixed names', async () => {
    process.env.PROVISIONER_TEST_SECRET = 'server-only';
    try {
      const t = task();
      const compute = backend();
      await compute.start(t);
      const file = join(dataDir, t.workbenchId, 'env.json');
      await until(() => existsSync(file) && readFileSync(file, 'utf8').length > 0, 'the environment dump');
      const env = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      expect(env.PROVISIONER_TEST_SECRET).toBeUndefined();
      expect(env.NODE_OPTIONS).toBeUndefined();
      // The user's name is a value, never a name.
      expect(env.WORKBENCH_NAME).toBe('MY_VAR=1; rm -rf /');
      expect(env.MY_VAR).toBeUndefined();
      expect(Object.keys(env).filter((k) => !['PATH', 'HOME'].includes(k) && !k.startsWith('WORKBENCH_') && !k.startsWith('PROVISIONER_WORKBENCH') && k !== 'PROVISIONER_RUNTIME' && k !== 'PORT').filter((k) => !/^(_|PWD|SHLVL|LC_ALL)$/.test(k))).toEqual([]);
      await compute.remove(t);
    } finally {
      delete process.env.PROVISIONER_TEST_SECRET;
    }
  });

  it('a process whose record was lost is stopped by stop and by delete', async () => {
    for (const how of ['stop', 'remove'] as const) {
      const t = task();
      void backend(losingRecords(store)).start(t);
      await until(() => tagged(t.runId).length === 1, 'the tagged process');
      await backend()[how](t);
      await until(() => tagged(t.runId).length === 0, `${how} to end it`);
    }
  });

  it('the janitor\'s sweep stops tagged processes of runs no live workbench owns, and spares the live and the new', async () => {
    const lost = task();
    const live = task();
    void backend(losingRecords(store)).start(lost);
    const compute = backend();
    await compute.start(live);
    await until(() => tagged(lost.runId).length === 1 && tagged(live.runId).length === 1, 'both processes');
    // Started after the sweep began: spared.
    expect(await compute.sweep(new Set([live.runId]), new Date(Date.now() - 60_000))).toEqual([]);
    expect(await compute.sweep(new Set([live.runId]), new Date(Date.now() + 60_000))).toEqual([lost.runId]);
    await until(() => tagged(lost.runId).length === 0, 'the sweep to end the lost run');
    expect(tagged(live.runId)).toHaveLength(1);
    await compute.remove(live);
    await until(() => tagged(live.runId).length === 0, 'delete');
  });
});
