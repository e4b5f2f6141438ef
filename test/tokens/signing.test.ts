import { describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, importJWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { createClusterVerifier } from '../../src/tokens/cluster-verifier.js';
import { generateSigningKey, importSigningKey, type KeySet, publicJwks, type StoredKey } from '../../src/tokens/keys.js';
import { signClusterToken, signUserToken, verifyClusterToken, verifyUserToken } from '../../src/tokens/tokens.js';

const issuer = 'https://api.example.com';
const now = new Date('2026-11-25T12:00:00.000Z');
const caller = { sub: 'github:alice', login: 'alice', level: 'administrator' as const, orgs: ['acme'] };

/** How every token was signed before node:crypto: jose's SignJWT with the JWK imported into WebCrypto. */
async function signedTheOldWay(stored: StoredKey, typ: string, audience: string, claims: JWTPayload): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: stored.kid, typ })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(caller.sub)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 3600)
    .setJti(randomUUID())
    .sign(await importJWK(stored.private_jwk, 'ES256'));
}

describe('ES256 tokens signed with node:crypto', () => {
  const keys = async (): Promise<{ stored: StoredKey; set: KeySet }> => {
    const stored = await generateSigningKey(now);
    return { stored, set: { keys: [stored] } };
  };

  it('verify with jose, pinned to ES256, the issuer, the audience and the typ', async () => {
    const { stored, set } = await keys();
    const key = importSigningKey(stored);
    const jwks = createLocalJWKSet(publicJwks(set));
    const pinned = { algorithms: ['ES256'], issuer, currentDate: now, requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'] };
    const user = await signUserToken(key, caller, { issuer, ttlSeconds: 600, now });
    const { payload, protectedHeader } = await jwtVerify(user.token, jwks, { ...pinned, audience: 'provisioner', typ: 'user+jwt' });
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: stored.kid, typ: 'user+jwt' });
    expect(payload).toMatchObject({ ...caller, iss: issuer, aud: 'provisioner', exp: Math.floor(now.getTime() / 1000) + 600 });
    expect(user.expiresAt.getTime()).toBe(now.getTime() + 600_000);
    const cluster = await signClusterToken(key, 'demo', caller, { issuer, ttlSeconds: 3600, now });
    const verified = await jwtVerify(cluster.token, jwks, { ...pinned, audience: 'demo', typ: 'cluster+jwt' });
    expect(verified.payload).toMatchObject({ sub: caller.sub, level: 'administrator', aud: 'demo' });
  });

  it('verify with the cluster verifier, and only for their own cluster', async () => {
    const { stored, set } = await keys();
    const { token } = await signClusterToken(importSigningKey(stored), 'demo', caller, { issuer, ttlSeconds: 3600, now });
    const demo = createClusterVerifier({ issuer, cluster: 'demo', jwks: publicJwks(set) });
    await expect(demo(token, now)).resolves.toEqual({ sub: caller.sub, level: 'administrator', cluster: 'demo', expiresAt: new Date(now.getTime() + 3600_000) });
    await expect(createClusterVerifier({ issuer, cluster: 'acme-dev', jwks: publicJwks(set) })(token, now)).rejects.toMatchObject({ reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('are a new signature every time (ECDSA nonces), each one valid', async () => {
    const { stored, set } = await keys();
    const key = importSigningKey(stored);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => signClusterToken(key, 'demo', caller, { issuer, ttlSeconds: 60, now })));
    expect(new Set(tokens.map((t) => t.token.split('.')[2])).size).toBe(20);
    for (const { token } of tokens) await expect(verifyClusterToken(token, 'demo', async () => publicJwks(set), { issuer, now })).resolves.toMatchObject({ cluster: 'demo' });
  });

  it('leave tokens signed before the change valid: same key material, same checks', async () => {
    const { stored, set } = await keys();
    const jwks = async () => publicJwks(set);
    const user = await signedTheOldWay(stored, 'user+jwt', 'provisioner', { login: caller.login, level: caller.level, orgs: caller.orgs });
    await expect(verifyUserToken(user, jwks, { issuer, now })).resolves.toMatchObject({ caller: { ...caller, session: { jti: expect.any(String), exp: Math.floor(now.getTime() / 1000) + 3600 } }, exp: Math.floor(now.getTime() / 1000) + 3600 });
    const cluster = await signedTheOldWay(stored, 'cluster+jwt', 'demo', { level: caller.level });
    await expect(createClusterVerifier({ issuer, cluster: 'demo', jwks: publicJwks(set) })(cluster, now)).resolves.toMatchObject({ cluster: 'demo', sub: caller.sub });
    // And the new way with the very same stored key verifies beside them.
    const fresh = await signClusterToken(importSigningKey(stored), 'demo', caller, { issuer, ttlSeconds: 3600, now });
    await expect(verifyClusterToken(fresh.token, 'demo', jwks, { issuer, now })).resolves.toMatchObject({ sub: caller.sub });
  });
});
