/**
 * The busy hour and the quiet night, for `npm run bench`:
 *   - mixed load: concurrent ACCESS, WHOAMI and GET of a cluster while deploy/destroy cycles run,
 *     against the local API in its own process; p50/p99 per kind and the share of errors
 *   - idle cost: N clusters deployed and running, nothing asked of the API; how many store requests
 *     the runtime makes per minute (goal: none; the local scheduler waits on one timer, nothing polls)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { localSettings, readEnv } from '../src/config.js';
import { installRuntime } from '../src/deps.js';
import { startLocalRuntime } from '../src/runtime/local.js';
import { scheduledDispatch, startLocalServer } from '../local/server.js';
import { startProcess } from './tools.js';

interface Answer {
  status: number;
  body: string;
}

/** A keep-alive JSON client of one API. */
function client(base: string, connections: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(base);
  const send = (method: string, path: string, token?: string, body?: unknown) =>
    new Promise<Answer>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path,
          method,
          agent,
          headers: { ...(token && { authorization: `Bearer ${token}` }), ...(payload && { 'content-type': 'application/json' }) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { send, close: () => agent.destroy() };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Every request of the busy hour, by kind: latencies of the expected answers and the count of the others. */
class Tally {
  private readonly kinds = new Map<string, { ms: number[]; errors: number; example?: string }>();

  record(kind: string, ms: number, ok: boolean, answer?: Answer): void {
    const entry = this.kinds.get(kind) ?? { ms: [], errors: 0 };
    entry.ms.push(ms);
    if (!ok) {
      entry.errors++;
      entry.example ??= answer ? `${answer.status} ${answer.body.slice(0, 160)}` : 'no answer';
    }
    this.kinds.set(kind, entry);
  }

  print(seconds: number): void {
    console.log('   kind                 requests    req/s    p50 ms    p99 ms   errors');
    for (const [kind, { ms, errors, example }] of this.kinds) {
      const share = ms.length ? (100 * errors) / ms.length : 0;
      console.log(
        `   ${kind.padEnd(20)} ${String(ms.length).padStart(8)} ${(ms.length / seconds).toFixed(0).padStart(8)} ${percentile(ms, 50).toFixed(1).padStart(9)} ${percentile(ms, 99).toFixed(1).padStart(9)}   ${share.toFixed(2)}%${example ? `  (first: ${example})` : ''}`,
      );
    }
  }
}

/** Writes a catalog and dev users for the bench: limits out of reach (every request still counted), `extra` public clusters. */
export function benchSetup(catalog: Record<string, unknown>, extraClusters = 0): { dir: string; catalogPath: string; devUsers: string } {
  const dir = mkdtempSync(join(tmpdir(), 'provisioner-bench-'));
  const unreachable = { requests: 1_000_000_000, per: '1h' };
  const clusters = [
    ...(catalog.clusters as unknown[]),
    ...Array.from({ length: extraClusters }, (_, i) => ({ name: `idle-${i}`, visibility: 'public', backend: { kind: 'local' } })),
  ];
  const catalogPath = join(dir, 'catalog.json');
  writeFileSync(catalogPath, JSON.stringify({ ...catalog, clusters, rate_limits: { anonymous: unreachable, github_member: unreachable } }));
  const devUsers = join(dir, 'dev-users.json');
  writeFileSync(
    devUsers,
    JSON.stringify({
      'bench-dev-token': { login: 'bench', orgs: [] },
      'bench-member-token': { login: 'bench-member', orgs: ['acme'] },
      // alice is the example catalog's administrator: no max_deployments in the way of the cycles
      'bench-admin-token': { login: 'alice', orgs: ['acme'] },
    }),
  );
  return { dir, catalogPath, devUsers };
}

async function login(send: ReturnType<typeof client>['send'], githubToken: string): Promise<string> {
  const answer = await send('POST', '/v1/login', undefined, { github_token: githubToken });
  if (answer.status !== 200) throw new Error(`login answered ${answer.status}: ${answer.body}`);
  return (JSON.parse(answer.body) as { token: string }).token;
}

/** Polls a cluster until it has `status`; false when it did not within the time. */
async function waitFor(send: ReturnType<typeof client>['send'], token: string, cluster: string, status: string, ms = 60_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const answer = await send('GET', `/v1/clusters/${cluster}`, token);
    if (answer.status === 200 && (JSON.parse(answer.body) as { status: string }).status === status) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Mixed traffic for `seconds` over `connections` connections: most read, one deploys and destroys in a loop. */
export async function mixedLoad(catalog: Record<string, unknown>, seconds: number, connections = 16): Promise<void> {
  const { catalogPath, devUsers } = benchSetup(catalog);
  const api = await startProcess('npx', ['tsx', 'local/main.ts', '--memory'], /listening on (\S+)/, {
    PORT: '0',
    PROVISIONER_LOG_LEVEL: 'WARN',
    PROVISIONER_CATALOG: catalogPath,
    PROVISIONER_DEV_USERS: devUsers,
  });
  const { send, close } = client(api.url, connections);
  try {
    const member = await login(send, 'bench-dev-token');
    const admin = await login(send, 'bench-admin-token');
    const tally = new Tally();
    const end = Date.now() + seconds * 1000;
    const timed = async (kind: string, expected: number[], run: () => Promise<Answer>) => {
      const start = performance.now();
      try {
        const answer = await run();
        tally.record(kind, performance.now() - start, expected.includes(answer.status), answer);
        return answer;
      } catch {
        tally.record(kind, performance.now() - start, false);
        return undefined;
      }
    };
    const readers: [string, () => Promise<Answer>][] = [
      ['access', () => send('POST', '/v1/clusters/demo/access', member)],
      ['access', () => send('POST', '/v1/clusters/demo/access', member)],
      ['whoami', () => send('GET', '/v1/whoami', member)],
      ['get cluster', () => send('GET', '/v1/clusters/demo', member)],
    ];
    const reader = async (i: number) => {
      while (Date.now() < end) {
        const [kind, run] = readers[i % readers.length] as [string, () => Promise<Answer>];
        await timed(kind, [200], run);
        i++;
      }
    };
    // One connection cycles a private cluster; the time from DEPLOY to running is the cycle's "deploy" figure.
    const cycler = async () => {
      while (Date.now() < end) {
        const deployedAt = performance.now();
        const deployed = await timed('deploy', [200, 202], () => send('POST', '/v1/clusters/acme-dev/deploy', admin, { ttl: '1h', nodes: 1 }));
        if (!deployed) continue;
        const running = await waitFor(send, admin, 'acme-dev', 'running');
        tally.record('deploy → running', performance.now() - deployedAt, running);
        const destroyedAt = performance.now();
        await timed('destroy', [200, 202], () => send('POST', '/v1/clusters/acme-dev/destroy', admin));
        const absent = await waitFor(send, admin, 'acme-dev', 'absent');
        tally.record('destroy → absent', performance.now() - destroyedAt, absent);
      }
    };
    await Promise.all([cycler(), ...Array.from({ length: connections - 1 }, (_, i) => reader(i))]);
    console.log(`\n4. Mixed load, ${seconds} s, ${connections} keep-alive connections (${connections - 1} reading, 1 cycling deploy → destroy of acme-dev)`);
    tally.print(seconds);
    console.log('   (errors: any answer other than the expected 2xx; "deploy → running" and "destroy → absent" time whole cycles)');
  } finally {
    close();
    api.stop();
  }
}

/**
 * `count` clusters deployed and running, then `seconds` of silence: the store requests the runtime
 * makes on its own, counted on the DynamoDB client every adapter shares.
 */
export async function idleCost(catalog: Record<string, unknown>, count: number, seconds: number): Promise<void> {
  const { catalogPath, devUsers } = benchSetup(catalog, count);
  process.env.PROVISIONER_LOG_LEVEL = 'WARN';
  const config = readEnv(localSettings(), {
    PORT: '0',
    PROVISIONER_LOG_LEVEL: 'WARN',
    PROVISIONER_MEMORY: '1',
    PROVISIONER_CATALOG: catalogPath,
    PROVISIONER_DEV_USERS: devUsers,
  });
  const runtime = await startLocalRuntime({ config });
  const requests = new Map<string, number>();
  // The store's document client is private: reached here only to count what crosses it.
  const doc = (runtime.deps.store as unknown as { doc: { middlewareStack: { add: (m: unknown, o: unknown) => void } } }).doc;
  doc.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
      const name = context.commandName ?? 'command';
      requests.set(name, (requests.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCountStoreRequests' },
  );
  installRuntime(runtime.deps);
  const server = await startLocalServer({ port: 0 });
  runtime.servedAt(server.url);
  await runtime.startScheduler(await scheduledDispatch());
  const { send, close } = client(server.url, 4);
  try {
    const admin = await login(send, 'bench-admin-token');
    const names = Array.from({ length: count }, (_, i) => `idle-${i}`);
    for (const name of names) {
      const answer = await send('POST', `/v1/clusters/${name}/deploy`, admin, { ttl: '12h', nodes: 1 });
      if (answer.status >= 300) throw new Error(`deploying ${name} answered ${answer.status}: ${answer.body}`);
    }
    for (const name of names) if (!(await waitFor(send, admin, name, 'running'))) throw new Error(`${name} did not become running`);
    // Quiet from here: nobody calls the API.
    await new Promise((r) => setTimeout(r, 1_000));
    requests.clear();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const total = [...requests.values()].reduce((a, b) => a + b, 0);
    const detail = [...requests].map(([name, n]) => `${name} ${n}`).join(', ');
    console.log(`\n5. Idle cost: ${count} clusters running, ${seconds} s without a request`);
    console.log(`   store requests per minute ${((total * 60) / seconds).toFixed(1)} (goal 0)${detail ? `: ${detail}` : ''}`);
  } finally {
    close();
    await server.close();
    installRuntime(undefined);
    await runtime.close();
  }
}

