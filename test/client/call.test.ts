import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallArgs, createCall } from '../../client/call.js';
import { createClient, type ProvisionerClient } from '../../client/index.js';
import { Session } from '../../client/session.js';
import { type ApiOperation, routeEntries, routes } from '../../src/api/routes.js';
import * as z from '../../src/zod.js';
import { FakeGitHub } from '../support/fake-github.js';
import { closeServer, listenLocal } from '../support/http.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

describe('call, against a server that records what it gets', () => {
  let server: Server;
  let url = '';
  const seen: { method?: string; url?: string; authorization?: string; contentType?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    url = await listenLocal(server);
  });
  afterAll(() => closeServer(server));

  const call = () => {
    seen.length = 0;
    return createCall(new Session({ url, retries: 0, timeoutMs: 2_000 }, async () => 'user-jwt'));
  };

  it('fills the path parameters URL-encoded and sends the method of the table', async () => {
    // Arrange
    const send = call();

    // Act
    await send('cancel-destroy', { params: { cluster: 'a b/c?' } });

    // Assert
    expect(seen).toMatchObject([{ method: routes['cancel-destroy'].method, url: '/v1/clusters/a%20b%2Fc%3F/destroy-schedule' }]);
    expect(routes['cancel-destroy'].method).toBe('DELETE');
  });

  it('drops query values that are undefined', async () => {
    const send = call();

    await send('list-clusters', { query: { limit: 5, next_token: undefined } });
    await send('list-clusters');

    expect(seen.map((request) => request.url)).toEqual(['/v1/clusters?limit=5', '/v1/clusters']);
  });

  it('sends the body as JSON', async () => {
    const send = call();

    await send('schedule-destroy', { params: { cluster: 'demo' }, body: { in: '2h' } });

    expect(seen).toEqual([expect.objectContaining({ method: 'PUT', contentType: 'application/json', body: '{"in":"2h"}' })]);
  });

  it('sends the user JWT, except to public routes and to login (which is how the client gets one)', async () => {
    const send = call();

    await send('whoami');
    await send('health');
    await send('login', { body: { github_token: 'gh-token' } });

    expect(seen.map((request) => [request.url, request.authorization])).toEqual([
      ['/v1/whoami', 'Bearer user-jwt'],
      ['/v1/health', undefined],
      ['/v1/login', undefined],
    ]);
  });

  it('refuses, at compile time and at run time, an operation the table does not have or a missing path parameter', async () => {
    const send = call();

    // @ts-expect-error: no such operation in the route table
    const unknown = send('deploy-cluster');
    // @ts-expect-error: get-cluster needs params.cluster
    const missing = send('get-cluster');

    await expect(unknown).rejects.toThrow('unknown operation "deploy-cluster"');
    await expect(missing).rejects.toThrow('/v1/clusters/{cluster} needs params.cluster');
    expect(seen).toEqual([]);
  });
});

describe('call, against the local API', () => {
  const github = new FakeGitHub();
  let api: TestApi;
  let client: ProvisionerClient;

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
    github.deviceToken = 'gh-alice';
    github.devicePendingPolls = 0;
    api = await startTestApi({
      env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_GITHUB_URL: github.url, PROVISIONER_GITHUB_CLIENT_ID: 'console-app', PROVISIONER_CATALOG: writeCatalog(testCatalog) },
    });
    client = createClient({
      env: { PROVISIONER_URL: api.url, PROVISIONER_CONFIG: '/nonexistent/provisioner.toml', PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-call-')) },
      config: { githubToken: 'gh-alice' },
    });
  });
  afterAll(async () => {
    await api.close();
    await github.stop();
  });

  /** One valid input per operation, in the table's order; a route added to the table fails to compile here until it has one. */
  const samples: { [O in ApiOperation]: CallArgs<O> } = {
    health: [],
    openapi: [],
    login: [{ body: { github_token: 'gh-alice' } }],
    whoami: [],
    access: [{ params: { cluster: 'demo' } }],
    jwks: [],
    'openid-configuration': [],
    'list-clusters': [{ query: { limit: 1 } }],
    'get-cluster': [{ params: { cluster: 'demo' } }],
    deploy: [{ params: { cluster: 'demo' }, body: { nodes: 1, ttl: '1h' } }],
    'schedule-destroy': [{ params: { cluster: 'demo' }, body: { in: '2h' } }],
    'cancel-destroy': [{ params: { cluster: 'demo' } }],
    destroy: [{ params: { cluster: 'demo' } }],
    'cluster-events': [{ params: { cluster: 'demo' }, query: { limit: 10 } }],
    // workspaces: the routes after create act on the workspace it made
    'workspace-create': [{ body: { name: 'call-sample', expiry: '36h', versions: { pachd: '2.6.0' }, values: { 'pachd.logLevel': 'debug' } } }],
    'workspace-list': [{ query: { limit: 5 } }],
    get 'workspace-get'() { return [{ params: { id: workspaceId } }] as CallArgs<'workspace-get'>; },
    get 'workspace-expired'() { return [{ params: { id: workspaceId } }] as CallArgs<'workspace-expired'>; },
    get 'workspace-update'() { return [{ params: { id: workspaceId }, body: { expiry: '5d' } }] as CallArgs<'workspace-update'>; },
    get 'workspace-delete'() { return [{ params: { id: workspaceId } }] as CallArgs<'workspace-delete'>; },
    get 'workspace-events'() { return [{ params: { id: workspaceId }, query: { limit: 10 } }] as CallArgs<'workspace-events'>; },
    // workbenches (the id routes act on the workbench made below)
    'workbench-list': [{ query: { limit: 5 } }],
    'workbench-create': [{ body: { name: 'sample', cpu: 256, memory: 512 } }],
    get 'workbench-get'(): CallArgs<'workbench-get'> {
      return [{ params: { id: sampleWorkbench } }];
    },
    get 'workbench-start'(): CallArgs<'workbench-start'> {
      return [{ params: { id: sampleWorkbench } }];
    },
    get 'workbench-stop'(): CallArgs<'workbench-stop'> {
      return [{ params: { id: sampleWorkbench } }];
    },
    get 'workbench-share'(): CallArgs<'workbench-share'> {
      return [{ params: { id: sampleWorkbench, login: 'bob' } }];
    },
    get 'workbench-unshare'(): CallArgs<'workbench-unshare'> {
      return [{ params: { id: sampleWorkbench, login: 'bob' } }];
    },
    get 'workbench-delete'(): CallArgs<'workbench-delete'> {
      return [{ params: { id: sampleWorkbench } }];
    },
    // runs: TEST needs a running cluster, which the samples above destroyed; the loop deploys acme-dev for it.
    'test-runner': [{ params: { cluster: 'demo' }, body: { version: 'main' } }],
    release: [{ params: { cluster: 'demo' }, body: { version: 'v1.0' } }],
    'get-run': [{ params: { get id() { return lastRun.id; } } }],
    'list-runs': [{ query: { kind: 'release' } }],
    'cancel-run': [{ params: { get id() { return lastRun.id; } } }],
    // tokens: revoke the token the create sample made; logout ends this client's JWT (the login samples after it make another)
    'token-create': [{ body: { name: 'sample', scopes: ['clusters:read'], expires_in: '1d' } }],
    'token-list': [{ query: { limit: 5 } }],
    'token-revoke': [{ params: { get token_id() { return lastToken.id; } } }],
    logout: [],
    // admin: the samples' clusters are absent by now, which both admin actions answer as they are
    'admin-overview': [],
    'admin-release-slot': [{ params: { cluster: 'demo' }, body: { reason: 'sample' } }],
    'admin-force-absent': [{ params: { cluster: 'demo' }, body: { reason: 'sample' } }],
    // console: the fake GitHub approves the device code at once
    'login-device': [],
    'login-device-token': [{ body: { device_code: 'device-1' } }],
  };
  let workspaceId = '';
  // workbenches
  let sampleWorkbench = '';
  beforeAll(async () => {
    sampleWorkbench = (await client.call('workbench-create', { body: { name: 'sample', cpu: 256, memory: 512 } })).id;
  });
  /** The token the token-create sample made, for the revoke sample. */
  const lastToken = { id: '' };
  /** The run the release sample started, for the samples that name a run. */
  const lastRun = { id: '' };
  /** TEST on acme-dev once it runs (local processes): the one route whose sample needs a cluster up. */
  async function testOnRunningCluster() {
    await client.call('deploy', { params: { cluster: 'acme-dev' }, body: {} });
    for (let i = 0; i < 100 && (await client.call('get-cluster', { params: { cluster: 'acme-dev' } })).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    return client.call('test-runner', { params: { cluster: 'acme-dev' }, body: { version: 'main' } });
  }
  const callWithSample = <O extends ApiOperation>(operation: O) => client.call(operation, ...samples[operation]);

  it('reaches every route of the table, and gets the answer its response schema describes', async () => {
    for (const [name, spec] of routeEntries) {
      // The console's files are pages, not JSON: call() refuses them (below).
      if (spec.file) continue;
      const operation = name as ApiOperation;
      // Act
      const answer = operation === 'test-runner' ? await testOnRunningCluster() : await callWithSample(operation);
      if (operation === 'workspace-create') workspaceId = (answer as { id: string }).id;
      if (operation === 'release') lastRun.id = (answer as unknown as { id: string }).id;
      if (operation === 'token-create') lastToken.id = (answer as { id: string }).id;

      // Assert
      const matches = Object.values(spec.responses).some((schema) => z.safeParse(schema(), answer).success);
      expect([operation, matches]).toEqual([operation, true]);
    }
  });

  it('refuses the console\'s file routes, which answer HTML and scripts rather than JSON', async () => {
    // @ts-expect-error: not an operation of the JSON API
    await expect(client.call('console')).rejects.toThrow(/unknown operation "console"/);
  });

  it('sends what the types allow, and the API refuses what they do not', async () => {
    // @ts-expect-error: deploy's body has "nodes", not "node"
    const wrongField = client.call('deploy', { params: { cluster: 'demo' }, body: { node: 2 } });

    await expect(wrongField).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
  });
});
