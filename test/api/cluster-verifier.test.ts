import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createClusterVerifier } from '../../src/tokens/cluster-verifier.js';
import { startTestApi, type TestApi } from '../support/local-api.js';

describe('the cluster-side verifier', () => {
  let api: TestApi;
  let demoToken: string;
  beforeAll(async () => {
    api = await startTestApi({ env: { PROVISIONER_MEMORY: '1' } });
    demoToken = (await api.call('POST', '/v1/clusters/demo/access')).body.token;
  });
  afterAll(() => api.close());

  it('verifies a cluster JWT against the API\'s JWKS URL, for its own cluster only', async () => {
    const demo = createClusterVerifier({ issuer: api.url, cluster: 'demo' });
    await expect(demo(demoToken)).resolves.toMatchObject({ cluster: 'demo', sub: 'anonymous', level: 'anonymous' });
    const other = createClusterVerifier({ issuer: api.url, cluster: 'acme-dev' });
    await expect(other(demoToken)).rejects.toMatchObject({ reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    const wrongIssuer = createClusterVerifier({ issuer: 'https://elsewhere.example', cluster: 'demo', jwks: `${api.url}/.well-known/jwks.json` });
    await expect(wrongIssuer(demoToken)).rejects.toMatchObject({ name: 'TokenRejected' });
  });

  it('refuses an expired cluster JWT', async () => {
    const demo = createClusterVerifier({ issuer: api.url, cluster: 'demo' });
    await expect(demo(demoToken, new Date(Date.now() + 2 * 3600_000))).rejects.toMatchObject({ reason: 'ERR_JWT_EXPIRED' });
  });

  function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'local/verify-cluster-token.ts', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout }));
    });
  }

  it('ships a command that says valid (exit 0) or refused (exit 1)', async () => {
    const good = await run(['--issuer', api.url, '--cluster', 'demo', demoToken]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, cluster: 'demo' });
    const bad = await run(['--issuer', api.url, '--cluster', 'acme-dev', demoToken]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false });
    expect((await run(['--cluster', 'demo'])).code).toBe(2);
  });

  it('says "could not fetch the keys" (exit 3), not "refused", when the JWKS is unreachable or broken', async () => {
    const closed = await run(['--issuer', 'http://127.0.0.1:1', '--cluster', 'demo', demoToken]);
    expect([closed.code, JSON.parse(closed.stdout)]).toEqual([3, expect.objectContaining({ valid: null, error: 'keys_unavailable' })]);
    const notJwks = await run(['--issuer', api.url, '--jwks', `${api.url}/v1/health`, '--cluster', 'demo', demoToken]);
    expect(notJwks.code).toBe(3);
  });
});
