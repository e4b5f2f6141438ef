import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { decodeJwt } from 'jose';
import { createServer, type Server } from 'node:http';
import { until } from '../support/api-process.js';
import { FakeCompute } from '../support/fake-compute.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeOidcIssuer } from '../support/fake-oidc.js';
import { closeServer, listenLocal } from '../support/http.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';
import { runStep } from './support.js';

/** The bundled actions, run as the runner runs them, against the local API and a fake Actions OIDC issuer. */
const clusterMain = 'actions/cluster/dist/main.mjs';
const clusterPost = 'actions/cluster/dist/post.mjs';
const testMain = 'actions/test/dist/main.mjs';

const github = new FakeGitHub();
const oidc = new FakeOidcIssuer();
const compute = new FakeCompute();
let api: TestApi;
let actionsRuntime: Server;
let runtimeEnv: Record<string, string>;
/** The workflow's user JWT, for the test's own reads of private clusters. */
let userToken: string;

// Each step is a node process polling the API; a TEST run is real bash: seconds on a busy machine.
jest.setTimeout(90_000);

beforeAll(async () => {
  await github.start();
  await oidc.start();
  api = await startTestApi({
    deps: { compute },
    env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_GITHUB_OIDC_ISSUER: oidc.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) },
  });
  // The runner's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): an OIDC token of the audience asked,
  // for the repository whose job holds the request token.
  const jobs: Record<string, string> = { 'Bearer runtime-secret': 'acme/sliderule', 'Bearer unlisted-secret': 'acme/unlisted' };
  actionsRuntime = createServer((req, res) => {
    const repository = jobs[req.headers.authorization ?? ''];
    if (!repository) return void res.writeHead(401).end();
    const audience = new URL(req.url ?? '/', 'http://runtime').searchParams.get('audience') ?? undefined;
    void oidc.mint({ repository, ref: 'refs/heads/main' }, { audience }).then((value) => res.end(JSON.stringify({ value })));
  });
  const runtimeUrl = await listenLocal(actionsRuntime);
  userToken = (await api.call('POST', '/v1/login', { body: { oidc_token: await oidc.mint({ repository: 'acme/sliderule', ref: 'refs/heads/main' }) } })).body.token;
  runtimeEnv = { ACTIONS_ID_TOKEN_REQUEST_URL: `${runtimeUrl}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-secret' };
});

afterAll(async () => {
  await api.close();
  await closeServer(actionsRuntime);
  await oidc.stop();
  await github.stop();
});

/** Plays the backend: once the action's deploy reaches it, the cluster's nodes come up. */
async function bringUp(cluster: string): Promise<void> {
  const before = compute.deployed.length;
  await until(`a deploy of ${cluster}`, async () => compute.deployed.slice(before), (deployed) => deployed.some((d) => d.cluster === cluster));
  compute.set(cluster, 'running', [`http://127.0.0.1:9/${cluster}`]);
}

const deployStep = (inputs: Record<string, string>) => runStep(clusterMain, { inputs: { url: api.url, ...inputs }, env: runtimeEnv });

describe('actions/cluster', () => {
  it('deploys and waits, outputs the URL and a masked cluster JWT, and its post step destroys the cluster', async () => {
    const [main] = await Promise.all([deployStep({ cluster: 'demo', nodes: '2', ttl: '2h' }), bringUp('demo')]);

    expect(main.stdout).not.toContain('::error::');
    expect(main.exitCode).toBe(0);
    expect(compute.deployed.at(-1)).toMatchObject({ cluster: 'demo', nodes: 2 });
    const token = main.outputs['cluster-token'] as string;
    expect(decodeJwt(token)).toMatchObject({ aud: 'demo', sub: 'actions:acme/sliderule' });
    expect(main.outputs['cluster-url']).toBe('http://127.0.0.1:9/demo');
    // Masked before anything could print it, and printed nowhere else.
    expect(main.stdout).toContain(`::add-mask::${token}`);
    expect(main.stdout.replaceAll(`::add-mask::${token}`, '')).not.toContain(token);
    // The OIDC token and the user JWT too: every JWT in the output is in a mask command.
    const masked = main.stdout.split('\n').filter((line) => line.startsWith('::add-mask::'));
    expect(masked).toHaveLength(3);
    expect(main.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::') && /eyJ[\w-]+\.[\w-]+\./.test(line))).toEqual([]);
    // Progress: each status as it changes (deploying, if a poll sees it before the nodes are up).
    expect(main.stdout).toMatch(/^demo: running \(\d+ s\)$/m);
    expect(main.summary).toContain('<b>demo</b> is running at http://127.0.0.1:9/demo, destroyed after the job');

    const post = await runStep(clusterPost, { state: main.state, env: runtimeEnv });
    expect(post.exitCode).toBe(0);
    expect(compute.destroyed).toContain(compute.latest('demo'));
    expect((await api.call('GET', '/v1/clusters/demo', { token: userToken })).body.status).toMatch(/^destroy/);
    expect(post.summary).toContain('<b>demo</b> destroyed after the job');
  });

  it('keep: true leaves the cluster running after the job', async () => {
    const [main] = await Promise.all([deployStep({ cluster: 'acme-dev', keep: 'true' }), bringUp('acme-dev')]);
    expect(main.exitCode).toBe(0);

    const post = await runStep(clusterPost, { state: main.state, env: runtimeEnv });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain('Keeping acme-dev (keep: true)');
    expect(compute.destroyed).not.toContain(compute.latest('acme-dev'));
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token: userToken })).body.status).toBe('running');
  });

  it('uses a cluster that already ran before the job, and its post step leaves it running', async () => {
    // The previous test kept acme-dev running.
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token: userToken })).body.status).toBe('running');
    const main = await deployStep({ cluster: 'acme-dev' });
    expect(main.exitCode).toBe(0);
    expect(main.stdout).toContain('acme-dev is already running: using it, and leaving it after the job.');
    const post = await runStep(clusterPost, { state: main.state, env: runtimeEnv });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain('Keeping acme-dev (it ran before this job)');
    expect(compute.destroyed).not.toContain(compute.latest('acme-dev'));
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token: userToken })).body.status).toBe('running');
  });

  it('fails clearly on a bad input, before deploying anything', async () => {
    const deploys = compute.deployed.length;
    const notANumber = await deployStep({ cluster: 'demo', nodes: 'many' });
    expect(notANumber.exitCode).toBe(1);
    expect(notANumber.stdout).toContain('::error::Input nodes must be a whole number (got "many").');

    const notABoolean = await deployStep({ cluster: 'demo', keep: 'maybe' });
    expect(notABoolean.exitCode).toBe(1);
    expect(notABoolean.stdout).toContain('::error::Input does not meet YAML 1.2 "Core Schema" specification: keep');

    const badUrl = await deployStep({ cluster: 'demo', url: 'localhost:2323' });
    expect(badUrl.exitCode).toBe(1);
    expect(badUrl.stdout).toContain('::error::Input url: PROVISIONER_URL must be an http:// or https:// URL');

    // The API refuses it: the message carries its stable code.
    const badTtl = await deployStep({ cluster: 'demo', ttl: 'forever' });
    expect(badTtl.exitCode).toBe(1);
    expect(badTtl.stdout).toMatch(/::error::.*ttl.*\(invalid_request/);
    // Nothing was deployed, so the post step has nothing to destroy.
    expect(badTtl.state).toEqual({});
    expect(compute.deployed).toHaveLength(deploys);
  });

  it('without "id-token: write" says what the job needs', async () => {
    const result = await runStep(clusterMain, { inputs: { url: api.url, cluster: 'demo' } });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('::error::No GitHub Actions OIDC token: give the job "permissions: id-token: write"');
    expect(result.stdout).toContain('(oidc_request_failed)');
  });

  it('in a repository the catalog does not list, fails with the API\'s refusal', async () => {
    const result = await runStep(clusterMain, { inputs: { url: api.url, cluster: 'demo' }, env: { ...runtimeEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'unlisted-secret' } });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::No catalog rule lets acme\/unlisted at refs\/heads\/main log in; add one under "actions"\. \(repository_not_allowed/);
  });
});

describe('actions/test', () => {
  it('fails the job naming the failing step, with the end of the log in the job summary', async () => {
    // acme-dev (kept running above) runs the catalog's failing plan.
    const result = await runStep(testMain, { inputs: { url: api.url, cluster: 'acme-dev', version: 'main' }, env: runtimeEnv });

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::TEST \S+ of acme-dev at main failed at step "known-failure"\./);
    expect(result.outputs).toMatchObject({ status: 'failed', 'run-id': expect.any(String) });
    expect(result.summary).toContain('failed at step "known-failure"</h3>');
    expect(result.summary).toContain('expected 42, got 41');
  });

  it('passes on a passing run, saying so in the job summary', async () => {
    // The destroy the cluster action's post step asked for above completes; demo is deployed again.
    compute.set('demo', 'gone');
    await until('demo gone', () => api.call('GET', '/v1/clusters/demo', { token: userToken }), ({ body }) => body.status === 'absent');
    const [deployed] = await Promise.all([deployStep({ cluster: 'demo', keep: 'true' }), bringUp('demo')]);
    expect(deployed.exitCode).toBe(0);

    const result = await runStep(testMain, { inputs: { url: api.url, cluster: 'demo', version: 'main' }, env: runtimeEnv });

    expect(result.stdout).not.toContain('::error::');
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'passed' });
    expect(result.summary).toMatch(/^TEST \S+ of demo at main passed\./);
  });
});
