/**
 * `npm run bench -- scale`: what grows with the total. Fills the store (dynalite, the items the use
 * cases write: entity heads with their list and status index keys) with 10,000 clusters (a catalog of
 * 10,000), 1,000 workbenches, 10,000 workspaces and 100,000 runs, then measures through the local API
 * every list's first page and a deep page (5 pages in), the admin overview, and the janitor's pass
 * (time and store calls) — each against the same figure at 100 of each. BENCH_SCALE (default 1)
 * scales the big fill (0.1: a tenth), BENCH_REPEAT (default 30) the requests per figure.
 * Not a test: figures and ratios, measured in one run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSettings, readEnv } from '../src/config.js';
import { installRuntime } from '../src/deps.js';
import { systemCaller } from '../src/domain/levels.js';
import { requestLog } from '../src/log.js';
import { sweepClusters } from '../src/operations/clusters/use-cases.js';
import { sweepRuns } from '../src/operations/runs/use-cases.js';
import { sweepWorkbenches } from '../src/operations/workbenches/use-cases.js';
import { sweepWorkspaces } from '../src/operations/workspaces/use-cases.js';
import type { NewItem, Store } from '../src/ports.js';
import { startLocalRuntime } from '../src/runtime/local.js';
import { entityKeys, type EntityKind, runListKeys, statusIndexKey, workbenchKeys, workspaceKeys } from '../src/store/keys.js';
import { startLocalServer } from '../local/server.js';

const repeat = Number(process.env.BENCH_REPEAT ?? 30);
const admin = 'github:bench-admin';
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;

interface Sizes {
  clusters: number;
  workbenches: number;
  workspaces: number;
  runs: number;
}

/** A head item as the entity store writes it (no events: the lists never read them). */
function head(kind: EntityKind, id: string, status: string, at: string, fields: Record<string, unknown>): NewItem {
  return { ...entityKeys.head(kind, id), status, events: [], updated_at: at, gsi2pk: statusIndexKey(kind, status), gsi2sk: `${at}#${id}`, ...fields } as NewItem;
}

function* items(sizes: Sizes, now: number): Generator<NewItem> {
  const at = (i: number) => new Date(now - i * 1000).toISOString();
  for (let i = 0; i < sizes.clusters; i++) {
    const name = `c${String(i).padStart(5, '0')}`;
    yield head('cluster', name, i % 10 === 0 ? 'failed' : 'absent', at(i), { name, ...(i % 10 === 0 && { reason: 'bench' }) });
  }
  for (let i = 0; i < sizes.workbenches; i++) {
    const id = `wb-${String(i).padStart(6, '0')}`;
    yield head('workbench', id, 'stopped', at(i), { id, name: `bench-${i}`, owner: admin, cpu: 256, memory: 512, created_at: at(i), gsi1pk: workbenchKeys.owner(admin), gsi1sk: `${at(i)}#${id}` });
    yield { ...workbenchKeys.listed(id), created_at: at(i) } as NewItem;
  }
  for (let i = 0; i < sizes.workspaces; i++) {
    const id = `ws-${String(i).padStart(6, '0')}`;
    const owner = `github:user${i % 500}`;
    yield head('workspace', id, 'failed', at(i), { id, name: `bench-${i}`, owner, created_at: at(i), failed_at: new Date(now + 86_400_000).toISOString(), reason: 'bench', gsi1pk: workspaceKeys.list, gsi1sk: workspaceKeys.order(owner, at(i), id) });
  }
  for (let i = 0; i < sizes.runs; i++) {
    const id = `run-${String(i).padStart(7, '0')}`;
    const status = i % 7 === 0 ? 'failed' : 'passed';
    yield head('run', id, status, at(i), { id, kind: 'test', cluster: `c${String(i % Math.max(1, sizes.clusters)).padStart(5, '0')}`, created_at: at(i), finished_at: at(i), gsi1pk: runListKeys.all, gsi1sk: runListKeys.order(at(i), id) });
  }
}

async function fill(store: Store, sizes: Sizes): Promise<void> {
  const total = sizes.clusters + sizes.workbenches * 2 + sizes.workspaces + sizes.runs;
  const started = performance.now();
  let written = 0;
  const source = items(sizes, Date.now());
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let next = source.next(); !next.done; next = source.next()) {
        await store.put(next.value);
        if (++written % 10_000 === 0) process.stdout.write(`   filled ${written}/${total} (${Math.round((performance.now() - started) / 1000)} s)\n`);
      }
    }),
  );
}

/** One store, one API: the catalog names `sizes.clusters` local clusters. */
async function world(sizes: Sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'provisioner-scale-'));
  const catalog = join(dir, 'catalog.json');
  const clusters = Array.from({ length: sizes.clusters }, (_, i) => ({ name: `c${String(i).padStart(5, '0')}`, visibility: 'public', backend: { kind: 'local' } }));
  writeFileSync(catalog, JSON.stringify({ organization: 'acme', admins: ['bench-admin'], clusters, actions: [] }));
  const users = join(dir, 'users.json');
  writeFileSync(users, JSON.stringify({ 'bench-admin-token': { login: 'bench-admin', orgs: ['acme'] } }));
  const config = readEnv(localSettings(), { PROVISIONER_DATA_DIR: dir, PORT: '0', PROVISIONER_MEMORY: '1', PROVISIONER_CATALOG: catalog, PROVISIONER_DEV_USERS: users, PROVISIONER_LOG_LEVEL: 'WARN' });
  const runtime = await startLocalRuntime({ config });
  installRuntime(runtime.deps);
  const server = await startLocalServer({ port: 0 });
  runtime.servedAt(server.url);
  await fill(runtime.deps.store, sizes);
  const login = await (await fetch(`${server.url}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ github_token: 'bench-admin-token' }) })).json();
  const token = (login as { token: string }).token;
  const get = async (path: string) => {
    const response = await fetch(server.url + path, { headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { next_token?: string };
  };
  return {
    runtime,
    get,
    async close() {
      await server.close();
      installRuntime(undefined);
      await runtime.close();
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

/** The measured requests: a list's first page, and its sixth (five `next_token`s in, fetched once and reused). */
const lists = { clusters: '/v1/clusters?limit=25', workspaces: '/v1/workspaces?limit=25', workbenches: '/v1/workbenches?limit=25', runs: '/v1/runs?limit=25' };

async function figures(w: World) {
  const measured: Record<string, { p50: number; p99: number }> = {};
  const time = async (name: string, path: string) => {
    const ms: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const start = performance.now();
      await w.get(path);
      ms.push(performance.now() - start);
    }
    measured[name] = { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  };
  for (const [name, path] of Object.entries(lists)) {
    await time(`${name}, first page`, path);
    let deep = path;
    for (let i = 0; i < 5; i++) {
      const page = await w.get(deep);
      if (!page.next_token) break;
      deep = `${path}&next_token=${encodeURIComponent(page.next_token)}`;
    }
    await time(`${name}, page 6`, deep);
  }
  await time('admin overview', '/v1/admin/overview');
  return measured;
}

/** The janitor's pass over everything: its time and its store calls, by method. */
async function janitorPass(w: World) {
  const deps = w.runtime.deps;
  const calls: Record<string, number> = {};
  const store = deps.store;
  const counted = new Proxy(store, {
    get(target, name: string) {
      const value = (target as unknown as Record<string, unknown>)[name];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const janitorDeps = { ...deps, store: counted };
  const actor = { caller: systemCaller('scheduler'), requestId: 'bench-janitor', log: requestLog('bench-janitor', 'janitor') };
  const start = performance.now();
  await sweepClusters(janitorDeps, actor);
  await sweepWorkspaces(janitorDeps, actor);
  await sweepWorkbenches(janitorDeps, actor);
  await sweepRuns(janitorDeps, actor);
  return { ms: performance.now() - start, calls };
}

export async function scale(): Promise<void> {
  process.env.PROVISIONER_LOG_LEVEL ??= 'WARN';
  const factor = Number(process.env.BENCH_SCALE ?? 1);
  const big: Sizes = { clusters: Math.round(10_000 * factor), workbenches: Math.round(1_000 * factor), workspaces: Math.round(10_000 * factor), runs: Math.round(100_000 * factor) };
  const small: Sizes = { clusters: 100, workbenches: 100, workspaces: 100, runs: 100 };
  console.log(`\n6. Scale: ${big.clusters} clusters, ${big.workbenches} workbenches, ${big.workspaces} workspaces, ${big.runs} runs against 100 of each (${repeat} requests per figure)`);
  const results: { lists: Record<string, { p50: number; p99: number }>; janitor: Awaited<ReturnType<typeof janitorPass>> }[] = [];
  for (const sizes of [small, big]) {
    console.log(`   filling ${sizes === small ? 'the small' : 'the big'} store…`);
    const w = await world(sizes);
    try {
      results.push({ lists: await figures(w), janitor: await janitorPass(w) });
    } finally {
      await w.close();
    }
  }
  const [at100, atScale] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(`   ${'request'.padEnd(26)} ${'p50 at 100'.padStart(11)} ${'p50 scaled'.padStart(11)} ${'ratio'.padStart(6)} ${'p99 at 100'.padStart(11)} ${'p99 scaled'.padStart(11)} ${'ratio'.padStart(6)}`);
  for (const [name, small100] of Object.entries(at100.lists)) {
    const scaled = atScale.lists[name] ?? { p50: NaN, p99: NaN };
    console.log(
      `   ${name.padEnd(26)} ${small100.p50.toFixed(1).padStart(9)}ms ${scaled.p50.toFixed(1).padStart(9)}ms ${(scaled.p50 / small100.p50).toFixed(2).padStart(6)} ${small100.p99.toFixed(1).padStart(9)}ms ${scaled.p99.toFixed(1).padStart(9)}ms ${(scaled.p99 / small100.p99).toFixed(2).padStart(6)}`,
    );
  }
  const callsOf = (j: (typeof results)[0]['janitor']) => Object.entries(j.calls).map(([name, n]) => `${name} ${n}`).join(', ');
  console.log(`   janitor pass               ${at100.janitor.ms.toFixed(0).padStart(9)}ms ${atScale.janitor.ms.toFixed(0).padStart(9)}ms ${(atScale.janitor.ms / at100.janitor.ms).toFixed(1).padStart(6)}`);
  console.log(`   janitor store calls at 100: ${callsOf(at100.janitor)}`);
  console.log(`   janitor store calls scaled: ${callsOf(atScale.janitor)}`);
}
