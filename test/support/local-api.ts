import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalConfig, localSettings, readEnv } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { type Deps, installRuntime } from '../../src/deps.js';
import { type LocalRuntime, startLocalRuntime } from '../../src/runtime/local.js';
import { scheduledDispatch, startLocalServer } from '../../local/server.js';
import { checkAnswer } from './conformance.js';

export interface TestApi {
  url: string;
  runtime: LocalRuntime;
  config: LocalConfig;
  /** fetch against the API, with a JSON body when given one. */
  call(method: string, path: string, options?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/** The local server, in this process, on a free port and a fresh data dir. */
export async function startTestApi(options: { env?: Record<string, string>; clock?: Clock; deps?: Partial<Deps> } = {}): Promise<TestApi> {
  const config = readEnv(localSettings(), { PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-')), PORT: '0', ...options.env });
  const runtime = await startLocalRuntime({ config, clock: options.clock });
  Object.assign(runtime.deps, options.deps);
  installRuntime(runtime.deps);
  const server = await startLocalServer({ port: 0 });
  runtime.servedAt(server.url);
  await runtime.startScheduler(await scheduledDispatch());
  return {
    url: server.url,
    runtime,
    config,
    async call(method, path, { body, token, headers = {} } = {}) {
      const response = await fetch(server.url + path, {
        method,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(token && { authorization: `Bearer ${token}` }),
          ...headers,
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      const parsed = text && response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text || undefined;
      checkAnswer(method, path, response.status, response.headers, parsed);
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async close() {
      await server.close();
      installRuntime(undefined);
      await runtime.close();
    },
  };
}

/** Writes a catalog for a test and returns its path. */
export function writeCatalog(catalog: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'catalog-')), 'catalog.json');
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}

export const testCatalog = {
  organization: 'acme',
  admin_team: 'provisioner-admins',
  admins: ['alice'],
  clusters: [
    { name: 'demo', visibility: 'public', backend: { kind: 'local' } },
    { name: 'acme-dev', visibility: 'private', max_nodes: 8, backend: { kind: 'local' } },
  ],
  actions: [
    { repository: 'acme/sliderule', ref: 'refs/heads/main', level: 'administrator' },
    { repository: 'acme/docs', ref: 'refs/heads/main', level: 'org_member' },
  ],
  // runs: offline plans (the runner makes the fixture repository): one that passes, one failing at a named step, one that outlasts its limit.
  runs: {
    time_limit: '10m',
    plans: {
      pass: {
        kind: 'test',
        repository: 'fixture:run-repo',
        steps: [
          { name: 'clone', run: 'git clone --quiet --no-checkout -- "$RUN_REPOSITORY" src && git -C src checkout --quiet --detach "$RUN_VERSION" --' },
          { name: 'cluster-check', run: 'test -n "$CLUSTER_TOKEN" && echo "testing against $CLUSTER_URL"' },
          { name: 'selftests', run: 'bash src/selftest.sh' },
        ],
      },
      fail: {
        kind: 'test',
        repository: 'fixture:run-repo',
        steps: [
          { name: 'clone', run: 'git clone --quiet --no-checkout -- "$RUN_REPOSITORY" src && git -C src checkout --quiet --detach "$RUN_VERSION" --' },
          { name: 'known-failure', run: 'bash src/failing-test.sh' },
          { name: 'never-reached', run: 'echo unreachable' },
        ],
      },
      slow: { kind: 'release', repository: 'fixture:run-repo', steps: [{ name: 'build-cluster', run: 'echo building; sleep 60' }] },
    },
    test: 'pass',
    release: 'slow',
    clusters: { 'acme-dev': { test: 'fail' } },
  },
};
