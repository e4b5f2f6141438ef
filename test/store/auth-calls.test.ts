import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FileKeyVault } from '../../src/adapters/local/file-key-vault.js';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { type Catalog, parseCatalog } from '../../src/domain/catalog.js';
import type { AuthDeps } from '../../src/deps.js';
import { authenticate } from '../../src/http/auth.js';
import type { HttpEvent } from '../../src/http/types.js';
import type { Store } from '../../src/ports.js';
import { revocationKeys } from '../../src/store/keys.js';
import { ensureKeys, VaultKeys } from '../../src/tokens/key-service.js';
import { importSigningKey, type StoredKey } from '../../src/tokens/keys.js';
import { RevocationList, revocationRefreshMs } from '../../src/tokens/revocations.js';
import { signUserToken } from '../../src/tokens/tokens.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { counting } from './counting.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const issuer = 'https://api.example.com';
const catalog: Catalog = parseCatalog(JSON.stringify({ organization: 'acme', clusters: [] }), 'test catalog');
const event = (token?: string) => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }) as unknown as HttpEvent;

describe('store calls of authentication with the revocation list', () => {
  const clock = new ManualClock();
  let dynamo: LocalDynamo;
  let dynamoStore: DynamoStore;
  let calls: string[];
  let deps: AuthDeps;
  let sign: (login: string) => Promise<string>;

  beforeAll(async () => {
    ({ dynamo, store: dynamoStore } = await startTestStore(clock));
    const vault = new FileKeyVault(undefined);
    const set = await ensureKeys(vault, clock);
    const keys = new VaultKeys(vault, clock, 600_000);
    const counted = counting(dynamoStore);
    calls = counted.calls;
    deps = { clock, store: counted.store, catalog, publicKeys: keys, tokenSettings: { issuer, userTokenTtlSeconds: 8 * 3600, clusterTokenTtlSeconds: 3600 } };
    sign = async (login) =>
      (await signUserToken(importSigningKey(set.keys[0] as StoredKey), { sub: `github:${login}`, login, level: 'github_member', orgs: [] }, { issuer, ttlSeconds: 3600, now: clock.now() })).token;
  });
  afterAll(() => dynamo.close());
  beforeEach(() => {
    calls.length = 0;
  });

  it('reads the list once a minute per container: no store call without a token, none for a cached token within the minute', async () => {
    const gil = await sign('gil');
    const olga = await sign('olga');

    await authenticate(event(), deps, log);
    expect(calls).toEqual([]);

    await authenticate(event(gil), deps, log);
    expect(calls).toEqual(['query']);
    calls.length = 0;
    for (let i = 0; i < 5; i++) await authenticate(event(gil), deps, log);
    await authenticate(event(olga), deps, log);
    await authenticate(event(), deps, log);
    expect(calls).toEqual([]);

    clock.advance(revocationRefreshMs);
    await Promise.all([authenticate(event(gil), deps, log), authenticate(event(olga), deps, log)]);
    expect(calls).toEqual(['query']);
  });
});

describe('the revocation list', () => {
  /** A store whose Query answers the given sort keys, or fails when told to. */
  function fakeStore(state: { revoked: string[]; fail: boolean }): Store {
    return {
      query: async () => {
        if (state.fail) throw new Error('throttled');
        return { items: state.revoked.map((sk) => ({ pk: revocationKeys.partition, sk, version: 1 })) };
      },
    } as unknown as Store;
  }
  const session = (jti: string, tokenId?: string) => ({ sub: 'github:gil', login: 'gil', level: 'github_member' as const, orgs: [], session: { jti, exp: 0, ...(tokenId && { tokenId }) } });

  it('refuses a revoked token id or JWT id once read, and what this container revoked at once', async () => {
    const clock = new ManualClock();
    const state = { revoked: [revocationKeys.token('tok-1').sk], fail: false };
    const list = new RevocationList(fakeStore(state));

    expect(await list.refuses(session('jti-1', 'tok-1'), clock.now(), log)).toBe(true);
    expect(await list.refuses(session('jti-2', 'tok-2'), clock.now(), log)).toBe(false);
    list.remember(revocationKeys.session('jti-2').sk, clock.now());
    expect(await list.refuses(session('jti-2', 'tok-2'), clock.now(), log)).toBe(true);
    // A caller without a session (a timed call's system caller) is never refused by the list.
    expect(await list.refuses({ sub: 'github:gil', login: 'gil', level: 'github_member', orgs: [] }, clock.now(), log)).toBe(false);
  });

  it('keeps the last list when a read fails (retrying 5 s later), and refuses to guess before its first read', async () => {
    const clock = new ManualClock();
    const state = { revoked: [revocationKeys.token('tok-1').sk], fail: true };
    const list = new RevocationList(fakeStore(state));
    await expect(list.refuses(session('jti-1'), clock.now(), log)).rejects.toThrow('throttled');

    state.fail = false;
    expect(await list.refuses(session('jti-1', 'tok-1'), clock.now(), log)).toBe(true);
    state.fail = true;
    clock.advance(revocationRefreshMs);
    expect(await list.refuses(session('jti-1', 'tok-1'), clock.now(), log)).toBe(true);
    state.fail = false;
    state.revoked = [];
    clock.advance(4_000);
    expect(await list.refuses(session('jti-1', 'tok-1'), clock.now(), log)).toBe(true);
    clock.advance(1_000);
    expect(await list.refuses(session('jti-1', 'tok-1'), clock.now(), log)).toBe(false);
  });
});
