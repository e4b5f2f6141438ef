import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../domain/clock.js';
import type { KeyRing, KeyVault, PublicKeys } from '../ports.js';
import { generateSigningKey, importSigningKey, type KeySet, publicJwks, rotateKeySet, type SigningKey } from './keys.js';

/**
 * Rotation: a new key signs from now on, the previous one still verifies the tokens it signed, any
 * older key is retired. `publish` receives the public key set (the table in AWS; nothing locally).
 */
export async function rotateKeys(vault: KeyVault, clock: Clock, publish: (jwks: JSONWebKeySet) => Promise<void> = async () => {}): Promise<KeySet> {
  const next = rotateKeySet(await vault.read(), await generateSigningKey(clock.now()));
  await vault.write(next);
  await publish(publicJwks(next));
  return next;
}

/** Creates the first key if there is none; otherwise changes nothing. */
export async function ensureKeys(vault: KeyVault, clock: Clock, publish?: (jwks: JSONWebKeySet) => Promise<void>): Promise<KeySet> {
  const existing = await vault.read();
  if (existing && existing.keys.length > 0) {
    await publish?.(publicJwks(existing));
    return existing;
  }
  return rotateKeys(vault, clock, publish);
}

/**
 * A new key is published (in the JWKS) this long before it signs: a cluster that read the keys
 * just before a rotation re-reads them for an unknown `kid` at most every 30 s, so it would refuse
 * a token signed with the new key inside that window.
 */
export const publishBeforeSigningMs = 60_000;

/**
 * Signing and verifying keys read from a vault, cached for `maxAgeMs` so that a warm container
 * picks up a rotation within that time without reading the vault on every request. The key that
 * signs is the newest one published at least `publishBeforeSigningMs` ago (the only one, at first).
 */
export class VaultKeys implements KeyRing, PublicKeys {
  private cached?: { at: number; jwks: JSONWebKeySet; keys: { since: number; signing: SigningKey }[] };

  constructor(
    private readonly vault: KeyVault,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  async signingKey(): Promise<SigningKey> {
    const { keys } = await this.load(false);
    const now = this.clock.now().getTime();
    const ready = keys.find((k) => k.since + publishBeforeSigningMs <= now) ?? keys[keys.length - 1];
    if (!ready) throw new Error('No signing key: run the key rotation once (see the README, "Keys").');
    return ready.signing;
  }

  async jwks(fresh: boolean): Promise<JSONWebKeySet> {
    return (await this.load(fresh)).jwks;
  }

  private async load(fresh: boolean) {
    const now = this.clock.now().getTime();
    if (this.cached && !fresh && now - this.cached.at < this.maxAgeMs) return this.cached;
    const set = await this.vault.read();
    if (!set || set.keys.length === 0) throw new Error('No signing key: run the key rotation once (see the README, "Keys").');
    // The same JWKS object until the next read, so verifiers can keep their imported keys. Newest first.
    const keys = set.keys.map((k) => ({ since: Date.parse(k.created_at), signing: importSigningKey(k) }));
    this.cached = { at: now, jwks: publicJwks(set), keys };
    return this.cached;
  }
}
