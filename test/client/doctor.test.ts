import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { main } from '../../client/cli/main.js';
import type { DoctorStep } from '../../client/cli/doctor-commands.js';
import { FakeGitHub } from '../support/fake-github.js';
import { closeServer, listenLocal } from '../support/http.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/** `provisioner doctor [--deep]` in this process against the in-process API: real local clusters and (offline) runs. */
const github = new FakeGitHub();
let api: TestApi;
const savedEnv = { ...process.env };

// A deep cycle starts cluster processes and runs a git clone: seconds on a busy machine.
jest.setTimeout(90_000);

beforeAll(async () => {
  await github.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  const catalog = {
    ...testCatalog,
    clusters: [
      ...testCatalog.clusters,
      { name: 'stuck', visibility: 'private', backend: { kind: 'local', command: ['sleep', '30'] } },
      { name: 'broken', visibility: 'private', backend: { kind: 'local', command: ['false'] } },
    ],
  };
  api = await startTestApi({ env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(catalog) } });
});

afterAll(async () => {
  process.env = savedEnv;
  await api.close();
  await github.stop();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI's main() in this process (it reads process.env), logged in as `githubToken` with a
 * fresh cache; `onStderr` sees each progress line as it is written.
 */
async function cli(args: string[], env: Record<string, string | undefined> = {}, onStderr?: (text: string) => void): Promise<Outcome> {
  process.env = {
    ...savedEnv,
    PROVISIONER_URL: api.url,
    PROVISIONER_CONFIG: '/nonexistent/provisioner.toml',
    PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-doctor-')),
    PROVISIONER_GITHUB_TOKEN: 'gh-alice',
    PROVISIONER_POLL_MS: '100',
    ...env,
  };
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    onStderr?.(String(chunk));
    return true;
  });
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = { ...savedEnv };
  }
}

const stepsOf = (outcome: Outcome): Pick<DoctorStep, 'name' | 'status'>[] => (JSON.parse(outcome.stdout) as { steps: DoctorStep[] }).steps.map(({ name, status }) => ({ name, status }));
const ok = (...names: string[]) => names.map((name) => ({ name, status: 'ok' }));
const adminToken = async () => (await api.call('POST', '/v1/login', { body: { github_token: 'gh-alice' } })).body.token as string;
const basics = ['health', 'openid-configuration', 'jwks', 'api-document', 'login'];

/** A server answering every request with `answer`, or passing it on to the API. */
async function frontOfApi(answer: (req: IncomingMessage, res: ServerResponse) => boolean) {
  const server = createServer(async (req, res) => {
    if (answer(req, res)) return;
    const body = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
    });
    const upstream = await fetch(api.url + (req.url ?? '/'), {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host')),
      ...(body.length > 0 && { body }),
    });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()));
  });
  return { url: await listenLocal(server), close: () => closeServer(server) };
}

describe('provisioner doctor', () => {
  it('passes its quick checks, printing each step with its duration, and says who is logged in', async () => {
    const text = await cli(['doctor']);
    const json = await cli(['doctor', '--json']);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ok {4}health +\d+\.\d s {2}version /m);
    expect(text.stdout).toMatch(/^ok {4}jwks .* 1 ES256 key\(s\): \S+/m);
    expect(text.stdout).toMatch(/^ok {4}login .* alice \(administrator\)$/m);
    expect(text.stdout).toContain('All 5 checks passed.');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ url: api.url, deep: false, ok: true, failed_step: null, interrupted: false });
    expect(stepsOf(json)).toEqual(ok(...basics));
  });

  it('--deep --cluster deploys it, verifies its JWT offline, runs its TEST and destroys it', async () => {
    const deep = await cli(['doctor', '--deep', '--cluster', 'demo', '--json']);

    expect(deep.code).toBe(0);
    expect(stepsOf(deep)).toEqual(ok(...basics, 'pick-cluster', 'deploy', 'access', 'test-run', 'destroy'));
    const steps = (JSON.parse(deep.stdout) as { steps: DoctorStep[] }).steps;
    expect(steps.find((s) => s.name === 'access')?.detail).toContain('cluster JWT verified offline for github:alice');
    expect(steps.find((s) => s.name === 'test-run')?.detail).toMatch(/passed \(3 steps\)/);
    expect(deep.stderr).toMatch(/demo: (deploying|running) \(\d+ s\)/);
    expect((await api.call('GET', '/v1/clusters/demo')).body).toMatchObject({ status: 'absent' });
  });

  it('--deep picks the first absent cluster; a failing TEST fails its step with exit 1, and the cluster is still destroyed', async () => {
    const deep = await cli(['doctor', '--deep']);

    // The list is by name: acme-dev first, whose TEST plan fails at a named step.
    expect(deep.code).toBe(1);
    expect(deep.stdout).toMatch(/^ok {4}pick-cluster .* acme-dev \(private, absent\)$/m);
    expect(deep.stdout).toMatch(/^FAIL {2}test-run .* at step known-failure.*\(operation_failed\)$/m);
    expect(deep.stdout).toMatch(/^ok {4}cleanup-destroy .* acme-dev absent$/m);
    expect(deep.stdout).toContain('FAILED at test-run');
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token: await adminToken() })).body).toMatchObject({ status: 'absent' });
  });

  it('--deep as an org member: a private cluster, and the TEST (an administrator\'s) skipped rather than failed', async () => {
    const deep = await cli(['doctor', '--deep', '--json'], { PROVISIONER_GITHUB_TOKEN: 'gh-olga' });

    expect(deep.code).toBe(0);
    expect(stepsOf(deep)).toEqual([...ok(...basics, 'pick-cluster', 'deploy', 'access'), { name: 'test-run', status: 'skipped' }, ...ok('destroy')]);
  });

  it('--deep --skip-test leaves the TEST out, saying so', async () => {
    const deep = await cli(['doctor', '--deep', '--cluster', 'demo', '--skip-test', '--json']);

    expect(deep.code).toBe(0);
    expect((JSON.parse(deep.stdout) as { steps: DoctorStep[] }).steps.find((s) => s.name === 'test-run')).toMatchObject({ status: 'skipped', detail: 'left out with --skip-test' });
  });

  it('--deep of a cluster that fails to deploy fails the deploy step with exit 1, and still destroys what it started', async () => {
    const deep = await cli(['doctor', '--deep', '--cluster', 'broken', '--json']);

    expect(deep.code).toBe(1);
    expect(JSON.parse(deep.stdout)).toMatchObject({ ok: false, failed_step: 'deploy' });
    expect(JSON.parse(deep.stdout).steps.slice(-2)).toEqual([
      expect.objectContaining({ name: 'deploy', status: 'failed', error: expect.objectContaining({ code: 'operation_failed', message: expect.stringContaining('broken failed') }) }),
      expect.objectContaining({ name: 'cleanup-destroy', status: 'ok' }),
    ]);
    expect((await api.call('GET', '/v1/clusters/broken', { token: await adminToken() })).body).toMatchObject({ status: 'absent' });
  });

  it('--deep leaves a cluster in use alone: --cluster naming a running one fails pick-cluster and destroys nothing', async () => {
    const token = await adminToken();
    expect((await api.call('POST', '/v1/clusters/demo/deploy', { token, body: {} })).status).toBe(202);
    try {
      const deep = await cli(['doctor', '--deep', '--cluster', 'demo', '--json']);

      expect(deep.code).toBe(1);
      expect(JSON.parse(deep.stdout)).toMatchObject({ ok: false, failed_step: 'pick-cluster' });
      expect(JSON.parse(deep.stdout).steps.at(-1)).toMatchObject({ name: 'pick-cluster', status: 'failed', error: { code: 'cluster_in_use' } });
      expect((await api.call('GET', '/v1/clusters/demo')).body.status).not.toBe('absent');
    } finally {
      await api.call('POST', '/v1/clusters/demo/destroy', { token });
    }
  });

  it('Ctrl-C during --deep stops the wait, destroys the cluster it deployed and exits 130', async () => {
    let interrupted = false;
    const deep = await cli(['doctor', '--deep', '--cluster', 'stuck', '--json'], {}, (text) => {
      // Once the deploy is under way, as a user would press Ctrl-C.
      if (!interrupted && text.includes('stuck: deploying')) {
        interrupted = true;
        process.emit('SIGINT');
      }
    });

    expect(interrupted).toBe(true);
    expect(deep.code).toBe(130);
    const report = JSON.parse(deep.stdout);
    expect(report).toMatchObject({ ok: false, interrupted: true, failed_step: 'deploy' });
    expect(stepsOf(deep).slice(-2)).toEqual([
      { name: 'deploy', status: 'failed' },
      { name: 'cleanup-destroy', status: 'ok' },
    ]);
    expect((await api.call('GET', '/v1/clusters/stuck', { token: await adminToken() })).body).toMatchObject({ status: 'absent' });
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('fails at health with exit 5 when the URL answers 503', async () => {
    const down = await frontOfApi((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'dependency_unavailable', message: 'Try again.' } }));
      return true;
    });
    try {
      const outcome = await cli(['doctor', '--json'], { PROVISIONER_URL: down.url, PROVISIONER_RETRIES: '0' });

      expect(outcome.code).toBe(5);
      expect(JSON.parse(outcome.stdout)).toMatchObject({ ok: false, failed_step: 'health', steps: [{ name: 'health', status: 'failed', error: { code: 'dependency_unavailable', status: 503 } }] });
      expect(outcome.stderr).toMatch(/^FAIL {2}health .* Try again\. \(dependency_unavailable\)$/m);
    } finally {
      await down.close();
    }
  });

  it('fails at login with exit 1 when the JWKS does not verify the tokens the API signs', async () => {
    // Arrange: the API's JWKS with its key replaced by another of the same kid.
    const { keys } = (await api.call('GET', '/.well-known/jwks.json')).body as { keys: { kid: string }[] };
    const other = { ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)), kid: keys[0]?.kid, alg: 'ES256', use: 'sig' };
    const forged = await frontOfApi((req, res) => {
      if (req.url !== '/.well-known/jwks.json') return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [other] }));
      return true;
    });
    try {
      // Act
      const outcome = await cli(['doctor'], { PROVISIONER_URL: forged.url });

      // Assert
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toMatch(/^ok {4}jwks /m);
      expect(outcome.stdout).toMatch(/^FAIL {2}login .* does not verify against the JWKS .*\(token_rejected\)$/m);
    } finally {
      await forged.close();
    }
  });

  it('fails at login with exit 3 without credentials; exit 2 for --deep options without --deep or a bad --timeout', async () => {
    const anonymous = await cli(['doctor', '--json'], { PROVISIONER_GITHUB_TOKEN: undefined });
    expect(anonymous.code).toBe(3);
    expect(JSON.parse(anonymous.stdout)).toMatchObject({ failed_step: 'login', steps: expect.arrayContaining([expect.objectContaining({ name: 'login', error: expect.objectContaining({ code: 'authentication_required' }) })]) });

    expect((await cli(['doctor', '--cluster', 'demo'])).code).toBe(2);
    expect((await cli(['doctor', '--skip-test'])).code).toBe(2);
    expect((await cli(['doctor', '--deep', '--timeout', '10'])).code).toBe(2);
    expect((await cli(['doctor', 'extra'])).code).toBe(2);
  });
});
