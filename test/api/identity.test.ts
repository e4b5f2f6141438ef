import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { levels } from '../../src/domain/levels.js';
import { rotateKeys } from '../../src/tokens/key-service.js';
import { localKeyVault } from '../../src/runtime/local.js';
import { verifyClusterToken } from '../../src/tokens/tokens.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeOidcIssuer } from '../support/fake-oidc.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const clock = new ManualClock(new Date());
const github = new FakeGitHub();
const oidc = new FakeOidcIssuer();
let api: TestApi;

/** One GitHub user per level (anonymous has no token). */
const tokens = { github_member: 'gh-gil', org_member: 'gh-olga', administrator: 'gh-alice' } as const;

beforeAll(async () => {
  await github.start();
  await oidc.start();
  github.users.set('gh-gil', { login: 'gil' });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-tom', { login: 'tom', orgs: { acme: 'active' }, teams: { 'acme/provisioner-admins': 'active' } });
  github.users.set('gh-pat', { login: 'pat', orgs: { acme: 'pending' } });
  api = await startTestApi({
    clock,
    env: {
      PROVISIONER_CATALOG: writeCatalog(testCatalog),
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_GITHUB_OIDC_ISSUER: oidc.url,
    },
  });
});

afterAll(async () => {
  await api.close();
  await github.stop();
  await oidc.stop();
});

async function loginAs(githubToken: string): Promise<string> {
  const { status, body } = await api.call('POST', '/v1/login', { body: { github_token: githubToken } });
  expect(status).toBe(200);
  return body.token as string;
}

async function userToken(level: (typeof levels)[number]): Promise<string | undefined> {
  return level === 'anonymous' ? undefined : loginAs(tokens[level]);
}

describe('login with a GitHub user token', () => {
  it.each([
    ['gh-gil', 'github_member', []],
    ['gh-olga', 'org_member', ['acme']],
    ['gh-alice', 'administrator', ['acme']],
    ['gh-tom', 'administrator', ['acme']],
    ['gh-pat', 'github_member', []],
  ])('%s logs in as %s', async (token, level, orgs) => {
    const { status, body, headers } = await api.call('POST', '/v1/login', { body: { github_token: token } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', user: { level, orgs } });
    expect(headers.get('cache-control')).toBe('no-store');
    const header = decodeProtectedHeader(body.token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'user+jwt' });
    expect(header.kid).toBeTruthy();
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({ iss: api.url, aud: 'provisioner', level, sub: `github:${body.user.login}` });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(8 * 3600);
    expect(new Date(body.expires_at).getTime()).toBe((claims.exp ?? 0) * 1000);
  });

  it('refuses a bad GitHub token with 401 invalid_github_token, and never echoes it', async () => {
    const { status, body } = await api.call('POST', '/v1/login', { body: { github_token: 'gh-nobody-secret' } });
    expect(status).toBe(401);
    expect(body.error.code).toBe('invalid_github_token');
    expect(JSON.stringify(body)).not.toContain('gh-nobody-secret');
  });

  it('answers 503 github_unavailable with Retry-After when GitHub fails', async () => {
    github.down = true;
    try {
      const { status, body, headers } = await api.call('POST', '/v1/login', { body: { github_token: 'gh-gil' } });
      expect(status).toBe(503);
      expect(body.error.code).toBe('github_unavailable');
      expect(headers.get('retry-after')).toBe('5');
    } finally {
      github.down = false;
    }
  });

  it('sends the token to GitHub as the credential and asks the org and team memberships', async () => {
    github.requests.length = 0;
    await loginAs('gh-tom');
    const paths = github.requests.map((r) => r.path).sort();
    expect(paths).toEqual(['/orgs/acme/teams/provisioner-admins/memberships/tom', '/user', '/user/memberships/orgs/acme']);
    expect(github.requests.every((r) => r.authorization === 'token gh-tom')).toBe(true);
  });

  it('wants exactly one credential', async () => {
    for (const body of [{}, { github_token: 'a', oidc_token: 'b' }, { github_token: '' }]) {
      const response = await api.call('POST', '/v1/login', { body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
  });
});

describe('login with a GitHub Actions OIDC token', () => {
  it('gives the level of the matching catalog rule, with sub actions:<repo>', async () => {
    const token = await oidc.mint({ repository: 'acme/sliderule', ref: 'refs/heads/main' }, { now: clock.now() });
    const { status, body } = await api.call('POST', '/v1/login', { body: { oidc_token: token } });
    expect(status).toBe(200);
    expect(body.user).toEqual({ login: 'acme/sliderule', level: 'administrator', orgs: ['acme'] });
    expect(decodeJwt(body.token).sub).toBe('actions:acme/sliderule');
  });

  it.each([
    ['an unlisted repository', { repository: 'evil/sliderule', ref: 'refs/heads/main' }],
    ['an unlisted ref', { repository: 'acme/sliderule', ref: 'refs/heads/feature' }],
    ['a sub that claims a listed repository', { repository: 'evil/x', ref: 'refs/heads/main', sub: 'repo:acme/sliderule:ref:refs/heads/main' }],
  ])('refuses %s with 403 repository_not_allowed', async (_what, claims) => {
    const token = await oidc.mint(claims, { now: clock.now() });
    const { status, body } = await api.call('POST', '/v1/login', { body: { oidc_token: token } });
    expect(status).toBe(403);
    expect(body.error.code).toBe('repository_not_allowed');
  });

  it('refuses forged or foreign Actions tokens with 401 invalid_oidc_token', async () => {
    const claims = { repository: 'acme/sliderule', ref: 'refs/heads/main' };
    const strangerKey = (await generateKeyPair('RS256')).privateKey;
    const forged = [
      await oidc.mint(claims, { now: clock.now(), audience: 'someone-else' }),
      await oidc.mint(claims, { now: clock.now(), issuer: 'https://token.actions.example' }),
      await oidc.mint(claims, { now: clock.now(), key: strangerKey }),
      await oidc.mint(claims, { now: new Date(clock.now().getTime() - 3600_000) }),
      'not-a-jwt',
    ];
    for (const token of forged) {
      const { status, body } = await api.call('POST', '/v1/login', { body: { oidc_token: token } });
      expect([status, body.error.code]).toEqual([401, 'invalid_oidc_token']);
    }
  });
});

describe('the authorization matrix: 4 levels × public/private × login/whoami/access', () => {
  const expected: Record<(typeof levels)[number], { private: number }> = {
    anonymous: { private: 404 },
    github_member: { private: 404 },
    org_member: { private: 200 },
    administrator: { private: 200 },
  };

  it.each(levels.map((level) => [level]))('%s', async (level) => {
    const token = await userToken(level);
    if (token) expect(decodeJwt(token).level).toBe(level);

    const me = await api.call('GET', '/v1/whoami', { token });
    expect(me.status).toBe(200);
    expect(me.body.level).toBe(level);

    const publicAccess = await api.call('POST', '/v1/clusters/demo/access', { token });
    expect(publicAccess.status).toBe(200);
    expect(decodeJwt(publicAccess.body.token)).toMatchObject({ aud: 'demo', level, sub: level === 'anonymous' ? 'anonymous' : expect.stringMatching(/^github:/) });

    const privateAccess = await api.call('POST', '/v1/clusters/acme-dev/access', { token });
    expect(privateAccess.status).toBe(expected[level].private);
    if (privateAccess.status === 200) {
      expect(decodeProtectedHeader(privateAccess.body.token)).toMatchObject({ alg: 'ES256', typ: 'cluster+jwt' });
      const claims = decodeJwt(privateAccess.body.token);
      expect(claims).toMatchObject({ aud: 'acme-dev', iss: api.url, level });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
      expect(claims.jti).toBeTruthy();
    } else {
      // Exactly what an unknown cluster answers: a caller who may not see it learns nothing of it.
      const unknown = await api.call('POST', '/v1/clusters/no-such/access', { token });
      expect(privateAccess.body.error.code).toBe('cluster_not_found');
      expect(privateAccess.body.error.message).toBe(unknown.body.error.message.replace('no-such', 'acme-dev'));
    }
  });

  it('answers an unknown cluster 404 cluster_not_found, and a malformed name 400', async () => {
    expect((await api.call('POST', '/v1/clusters/nope/access')).body.error.code).toBe('cluster_not_found');
    expect((await api.call('POST', '/v1/clusters/Bad_Name!/access')).status).toBe(400);
  });
});

describe('forged and confused tokens', () => {
  async function signedWithOurKey(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
    const key = await api.runtime.deps.keyRing.signingKey();
    const now = Math.floor(clock.now().getTime() / 1000);
    return new SignJWT({ sub: 'github:mallory', login: 'mallory', level: 'administrator', orgs: ['acme'], jti: 'x', iat: now, exp: now + 600, iss: api.url, aud: 'provisioner', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'user+jwt', ...header })
      .sign(key.key);
  }

  async function refusedByWhoami(token: string): Promise<void> {
    const { status, body } = await api.call('GET', '/v1/whoami', { token });
    expect([status, body.error?.code]).toEqual([401, 'invalid_token']);
  }

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('accepts the unforged baseline, so each refusal below is down to its one change', async () => {
    const { status, body } = await api.call('GET', '/v1/whoami', { token: await signedWithOurKey({}, {}) });
    expect([status, body.login]).toEqual([200, 'mallory']);
  });

  it('refuses alg none', async () => {
    const kid = (await api.runtime.deps.keyRing.signingKey()).kid;
    const now = Math.floor(clock.now().getTime() / 1000);
    await refusedByWhoami(`${b64({ alg: 'none', typ: 'user+jwt', kid })}.${b64({ sub: 'github:x', login: 'x', level: 'administrator', orgs: [], iss: api.url, aud: 'provisioner', iat: now, exp: now + 60, jti: 'j' })}.`);
  });

  it('refuses HS256 keyed with the public JWK', async () => {
    const jwks = (await api.call('GET', '/.well-known/jwks.json')).body;
    const publicJwk = jwks.keys[0];
    const now = Math.floor(clock.now().getTime() / 1000);
    const token = await new SignJWT({ login: 'x', level: 'administrator', orgs: [], jti: 'j' })
      .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid, typ: 'user+jwt' })
      .setIssuer(api.url)
      .setAudience('provisioner')
      .setSubject('github:x')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await refusedByWhoami(token);
  });

  it('refuses tampered claims under the old signature', async () => {
    const token = await loginAs('gh-gil');
    const [header, , signature] = token.split('.');
    const claims = { ...decodeJwt(token), level: 'administrator' };
    await refusedByWhoami(`${header}.${b64(claims)}.${signature}`);
  });

  it('refuses an unknown kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(clock.now().getTime() / 1000);
    const token = await new SignJWT({ login: 'x', level: 'administrator', orgs: [], jti: 'j' })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'user+jwt' })
      .setIssuer(api.url)
      .setAudience('provisioner')
      .setSubject('github:x')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    await refusedByWhoami(token);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    await refusedByWhoami(await signedWithOurKey({}, { iat: now - 7200, exp: now - 3600 }));
  });

  it('refuses a token not yet valid', async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    await refusedByWhoami(await signedWithOurKey({}, { nbf: now + 3600, iat: now, exp: now + 7200 }));
  });

  it('refuses a token that lives longer than the API issues (8 h here), or was issued in the future', async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    await refusedByWhoami(await signedWithOurKey({}, { iat: now, exp: now + 30 * 86_400 }));
    await refusedByWhoami(await signedWithOurKey({}, { iat: now + 3600, exp: now + 7200 }));
    // The longest lifetime the API does issue still passes.
    const { status } = await api.call('GET', '/v1/whoami', { token: await signedWithOurKey({}, { iat: now, exp: now + 8 * 3600 }) });
    expect(status).toBe(200);
  });

  it('refuses a wrong issuer', async () => {
    await refusedByWhoami(await signedWithOurKey({}, { iss: 'https://evil.example' }));
  });

  it('refuses a wrong audience', async () => {
    await refusedByWhoami(await signedWithOurKey({}, { aud: 'demo' }));
  });

  it('refuses a cluster JWT used as a user JWT', async () => {
    const { body } = await api.call('POST', '/v1/clusters/demo/access', { token: await loginAs('gh-alice') });
    await refusedByWhoami(body.token);
  });

  it('refuses a user JWT given to the cluster verifier, and another cluster\'s JWT', async () => {
    const userJwt = await loginAs('gh-alice');
    const demoJwt = (await api.call('POST', '/v1/clusters/demo/access', { token: userJwt })).body.token;
    const jwks = async () => (await api.call('GET', '/.well-known/jwks.json')).body;
    const options = { issuer: api.url, now: clock.now() };
    await expect(verifyClusterToken(userJwt, 'demo', jwks, options)).rejects.toThrow(/token refused/);
    await expect(verifyClusterToken(demoJwt, 'acme-dev', jwks, options)).rejects.toThrow(/token refused/);
    await expect(verifyClusterToken(demoJwt, 'demo', jwks, options)).resolves.toMatchObject({ cluster: 'demo', level: 'administrator', sub: 'github:alice' });
  });

  it('refuses a token with the wrong typ, or with claims of the wrong shape', async () => {
    await refusedByWhoami(await signedWithOurKey({ typ: 'JWT' }, {}));
    await refusedByWhoami(await signedWithOurKey({}, { level: 'emperor' }));
  });

  it('refuses a header that is not a bearer token', async () => {
    const { status, body } = await api.call('GET', '/v1/whoami', { headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } });
    expect([status, body.error.code]).toEqual([401, 'invalid_token']);
  });
});

describe('keys and JWKS', () => {
  it('publishes public keys only, cacheable, and an OpenID configuration pointing at them', async () => {
    const { status, body, headers } = await api.call('GET', '/.well-known/jwks.json');
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toMatch(/max-age=\d+/);
    for (const key of body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    const config = (await api.call('GET', '/.well-known/openid-configuration')).body;
    expect(config).toEqual({ issuer: api.url, jwks_uri: `${api.url}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['ES256'] });
  });

  it('keeps verifying the previous key after a rotation, and retires the one before', async () => {
    const vault = localKeyVault(api.config);
    const first = await loginAs('gh-olga');
    await rotateKeys(vault, clock);
    clock.advance(6_000); // past the local key cache
    expect((await api.call('GET', '/v1/whoami', { token: first })).status).toBe(200);
    expect((await api.call('GET', '/.well-known/jwks.json')).body.keys).toHaveLength(2);
    // The new key is published first and signs only a minute later, so every cluster has it by then.
    const meanwhile = await loginAs('gh-olga');
    expect(decodeProtectedHeader(meanwhile).kid).toBe(decodeProtectedHeader(first).kid);
    clock.advance(60_000);
    const second = await loginAs('gh-olga');
    expect(decodeProtectedHeader(second).kid).not.toBe(decodeProtectedHeader(first).kid);

    await rotateKeys(vault, clock);
    clock.advance(6_000);
    expect((await api.call('GET', '/v1/whoami', { token: first })).status).toBe(401);
    expect((await api.call('GET', '/v1/whoami', { token: second })).status).toBe(200);
  });

  it('keeps the local key file private to its owner', async () => {
    const { statSync } = await import('node:fs');
    const mode = statSync(`${api.config.PROVISIONER_DATA_DIR}/keys.json`).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});
