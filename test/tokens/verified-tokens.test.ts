import { describe, expect, it } from '@jest/globals';
import { FileKeyVault } from '../../src/adapters/local/file-key-vault.js';
import { ensureKeys, rotateKeys, VaultKeys } from '../../src/tokens/key-service.js';
import { importSigningKey, type StoredKey } from '../../src/tokens/keys.js';
import { signUserToken, verifyUserToken } from '../../src/tokens/tokens.js';
import { VerifiedUserTokens } from '../../src/tokens/verified-tokens.js';
import { ManualClock } from '../support/dynamo.js';

const issuer = 'https://api.example.com';
const caller = { sub: 'github:gil', login: 'gil', level: 'github_member' as const, orgs: [] };

describe('the cache of verified user JWTs', () => {
  async function setup(maxEntries?: number) {
    const clock = new ManualClock();
    const vault = new FileKeyVault(undefined);
    const set = await ensureKeys(vault, clock);
    const keys = new VaultKeys(vault, clock, 600_000);
    const cache = new VerifiedUserTokens(maxEntries);
    const sign = async (ttlSeconds: number, login = caller.login) =>
      (await signUserToken(importSigningKey(set.keys[0] as StoredKey), { ...caller, sub: `github:${login}`, login }, { issuer, ttlSeconds, now: clock.now() })).token;
    const verify = (token: string, expected = issuer) => cache.verify(token, (fresh) => keys.jwks(fresh), { issuer: expected, now: clock.now() });
    return { clock, vault, keys, cache, sign, verify };
  }

  it('answers a token it has verified, and refuses it once expired although cached', async () => {
    const { clock, sign, verify, cache } = await setup();
    const token = await sign(120);
    await expect(verify(token)).resolves.toMatchObject(caller);
    expect(cache.size).toBe(1);
    clock.advance(60_000);
    await expect(verify(token)).resolves.toMatchObject(caller);
    // Past exp and jose's 30 s of clock tolerance: the entry is not used, the full check refuses.
    clock.advance(91_000);
    await expect(verify(token)).rejects.toMatchObject({ name: 'TokenRejected', reason: 'ERR_JWT_EXPIRED' });
  });

  it('checks a token in full once, then answers from the cache until exp, never past it', async () => {
    const { clock, keys, sign } = await setup();
    let checks = 0;
    const cache = new VerifiedUserTokens(10, (...args) => {
      checks++;
      return verifyUserToken(...args);
    });
    const verify = () => cache.verify(token, (fresh) => keys.jwks(fresh), { issuer, now: clock.now() });
    const token = await sign(60);
    for (let i = 0; i < 5; i++) await verify();
    expect(checks).toBe(1);
    // Past exp but within jose's clock tolerance: the full check decides (and still accepts).
    clock.advance(61_000);
    await expect(verify()).resolves.toMatchObject(caller);
    expect(checks).toBe(2);
  });

  it('refuses a token whose key was rotated out, once the key set without it is served', async () => {
    const { clock, vault, sign, verify } = await setup();
    const token = await sign(8 * 3600);
    await expect(verify(token)).resolves.toMatchObject(caller);
    // Two rotations retire the key that signed it; warm containers keep the keys they read for 10 minutes.
    await rotateKeys(vault, clock);
    await rotateKeys(vault, clock);
    clock.advance(60_000);
    await expect(verify(token)).resolves.toMatchObject(caller);
    clock.advance(600_000);
    await expect(verify(token)).rejects.toMatchObject({ name: 'TokenRejected', reason: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('keeps a token valid across a rotation while its key is still the previous one', async () => {
    const { clock, vault, sign, verify } = await setup();
    const token = await sign(8 * 3600);
    await expect(verify(token)).resolves.toMatchObject(caller);
    await rotateKeys(vault, clock);
    clock.advance(700_000);
    await expect(verify(token)).resolves.toMatchObject(caller);
  });

  it('does not answer for another issuer', async () => {
    const { sign, verify } = await setup();
    const token = await sign(600);
    await expect(verify(token)).resolves.toMatchObject(caller);
    await expect(verify(token, 'https://other.example.com')).rejects.toMatchObject({ reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('is bounded: past its size the least recently used entries go', async () => {
    const { sign, verify, cache } = await setup(3);
    const tokens = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map((login) => sign(600, login)));
    for (const token of tokens) await verify(token);
    expect(cache.size).toBe(3);
    for (const token of tokens) await expect(verify(token)).resolves.toMatchObject({ level: 'github_member' });
    expect(cache.size).toBe(3);
  });
});
