import type { JSONWebKeySet } from 'jose';
import { once } from '../once.js';
import * as z from '../zod.js';
import { type ClusterClaims, type JwksSource, verifyClusterToken } from './tokens.js';

export type { ClusterClaims } from './tokens.js';
export { TokenRejected } from './tokens.js';

export interface ClusterVerifierOptions {
  /** The Provisioner API's issuer URL (`iss` of its tokens). */
  issuer: string;
  /** The name of the cluster doing the checking: tokens for any other cluster are refused. */
  cluster: string;
  /** Where the public keys are: the API's JWKS URL (default `<issuer>/.well-known/jwks.json`), or the key set itself. */
  jwks?: string | JSONWebKeySet;
  /** How long a fetched key set is trusted before it is fetched again. Default 5 minutes. */
  cacheMs?: number;
}

const jwksSchema = once(() => z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }));

/**
 * What a cluster's load balancer uses to check a cluster JWT offline: ES256 only, the API's
 * issuer, `aud` = this cluster, `typ: cluster+jwt`, not expired. Keys are fetched from the JWKS once
 * and cached; a token with an unknown `kid` triggers at most one refetch per 30 s.
 *
 * ```ts
 * const verify = createClusterVerifier({ issuer: 'https://api.example.com', cluster: 'acme-dev' });
 * const claims = await verify(token); // throws TokenRejected
 * ```
 */
export function createClusterVerifier(options: ClusterVerifierOptions): (token: string, now?: Date) => Promise<ClusterClaims> {
  const source = typeof options.jwks === 'object' ? staticJwks(options.jwks) : remoteJwks(options.jwks ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`, options.cacheMs ?? 300_000);
  return (token, now = new Date()) => verifyClusterToken(token, options.cluster, source, { issuer: options.issuer, now });
}

function staticJwks(jwks: JSONWebKeySet): JwksSource {
  return async () => jwks;
}

/** The keys could not be fetched (network, HTTP error, not a JWKS): not a verdict on the token. */
export class KeysUnavailable extends Error {
  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`The keys at ${url} could not be fetched`, options);
    this.name = 'KeysUnavailable';
  }
}

/** A JWKS fetched over HTTP, cached for `cacheMs`; forced refreshes at most once per 30 s. */
export function remoteJwks(url: string, cacheMs: number): JwksSource {
  let cached: { at: number; jwks: JSONWebKeySet } | undefined;
  let inflight: Promise<JSONWebKeySet> | undefined;
  const fetchKeys = async (): Promise<JSONWebKeySet> => {
    let jwks: JSONWebKeySet;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      jwks = jwksSchema().parse(await response.json()) as JSONWebKeySet;
    } catch (cause) {
      throw new KeysUnavailable(url, { cause });
    }
    cached = { at: Date.now(), jwks };
    return jwks;
  };
  return async (fresh) => {
    const age = cached ? Date.now() - cached.at : Infinity;
    if (cached && age < cacheMs && (!fresh || age < 30_000)) return cached.jwks;
    inflight ??= fetchKeys().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}
