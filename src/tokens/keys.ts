import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type JSONWebKeySet } from 'jose';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { once } from '../once.js';
import * as z from '../zod.js';

/** The one signing algorithm: ES256 (P-256), pinned on every verification. */
export const signingAlgorithm = 'ES256';

/** A signing key as kept in the key store (Secrets Manager in AWS, a 0600 file locally). */
export interface StoredKey {
  kid: string;
  created_at: string;
  private_jwk: JWK;
}

/** Newest first: `keys[0]` signs, `keys[1]` (the previous one) still verifies, older ones are retired. */
export interface KeySet {
  keys: StoredKey[];
}

/** A private key ready to sign: a node:crypto key object, which signs ES256 about 3× faster than WebCrypto. */
export interface SigningKey {
  kid: string;
  key: KeyObject;
}

const keySetSchema = once(() => {
  const storedKey = z.object({
    kid: z.string().check(z.minLength(8)),
    created_at: z.string(),
    private_jwk: z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), d: z.string() }),
  });
  return z.object({ keys: z.array(storedKey) });
});

export function parseKeySet(text: string): KeySet {
  return keySetSchema().parse(JSON.parse(text)) as KeySet;
}

export async function generateSigningKey(now: Date): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(signingAlgorithm, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicPart(privateJwk));
  return { kid, created_at: now.toISOString(), private_jwk: privateJwk };
}

/** Adds a new current key; the old current becomes the previous; anything older is retired. */
export function rotateKeySet(set: KeySet | undefined, key: StoredKey): KeySet {
  const current = set?.keys[0];
  return { keys: current ? [key, current] : [key] };
}

/** What verifiers need: the public halves of every key that may still verify a live token. */
export function publicJwks(set: KeySet): JSONWebKeySet {
  return { keys: set.keys.map((k) => ({ ...publicPart(k.private_jwk), kid: k.kid, alg: signingAlgorithm, use: 'sig' })) };
}

/** The stored JWK as a node:crypto private key (the same key material jose imported before). */
export function importSigningKey(stored: StoredKey): SigningKey {
  const { kty, crv, x, y, d } = stored.private_jwk;
  return { kid: stored.kid, key: createPrivateKey({ key: { kty, crv, x, y, d }, format: 'jwk' }) };
}

function publicPart(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}
