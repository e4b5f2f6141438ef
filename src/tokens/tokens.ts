import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { randomUUID, sign as cryptoSign } from 'node:crypto';
import { apiTokenScopes } from '../domain/api-tokens.js';
import { levels, type Caller, type Level } from '../domain/levels.js';
import { once } from '../once.js';
import * as z from '../zod.js';
import { type SigningKey, signingAlgorithm } from './keys.js';

/**
 * User and cluster JWTs (RFC 8725 practice): one algorithm, a `kid`, a distinct `typ` and audience
 * for each kind so that one can never pass as the other, and every claim checked on the way in.
 */
export const userTokenType = 'user+jwt';
export const clusterTokenType = 'cluster+jwt';
export const userAudience = 'provisioner';

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

interface SignOptions {
  issuer: string;
  ttlSeconds: number;
  now: Date;
}

/**
 * A compact JWS signed with node:crypto (ES256: P-256, SHA-256, the raw r‖s signature JWS wants): the
 * same token jose's SignJWT made (header `alg`, `kid`, `typ`; the same registered claims), without
 * WebCrypto's overhead. Signed in libuv's thread pool, as WebCrypto signs: a server answering many
 * requests at once keeps its main thread for them.
 */
async function sign(key: SigningKey, typ: string, audience: string, subject: string, claims: Record<string, unknown>, options: SignOptions): Promise<IssuedToken> {
  const iat = Math.floor(options.now.getTime() / 1000);
  const exp = iat + options.ttlSeconds;
  const header = base64url({ alg: signingAlgorithm, kid: key.kid, typ });
  const payload = base64url({ ...claims, iss: options.issuer, aud: audience, sub: subject, iat, nbf: iat, exp, jti: randomUUID() });
  const input = `${header}.${payload}`;
  const signature = await new Promise<Buffer>((resolve, reject) =>
    cryptoSign('sha256', Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' }, (error, result) => (error ? reject(error) : resolve(result))),
  );
  return { token: `${input}.${signature.toString('base64url')}`, expiresAt: new Date(exp * 1000) };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A user JWT (`typ: user+jwt`, `aud: provisioner`) naming the caller and their level; from an API
 * token also its `scope` (space separated, as OAuth writes it), `clusters` and the token's id `tid`.
 */
export function signUserToken(key: SigningKey, caller: Caller, options: SignOptions, apiToken?: { id: string; scopes: readonly string[]; clusters?: readonly string[] }): Promise<IssuedToken> {
  const scoped = apiToken && { scope: apiToken.scopes.join(' '), tid: apiToken.id, ...(apiToken.clusters && { clusters: apiToken.clusters }) };
  return sign(key, userTokenType, userAudience, caller.sub, { login: caller.login, level: caller.level, orgs: caller.orgs, ...scoped }, options);
}

/** A cluster JWT (`typ: cluster+jwt`, `aud` = the cluster) carrying the caller's level. */
export function signClusterToken(key: SigningKey, cluster: string, caller: Caller, options: SignOptions): Promise<IssuedToken> {
  return sign(key, clusterTokenType, cluster, caller.sub, { level: caller.level }, options);
}

const userClaims = once(() =>
  z.object({
    sub: z.string().check(z.minLength(1)),
    login: z.nullable(z.string()),
    level: z.enum(levels),
    orgs: z.array(z.string()),
    scope: z.optional(z.string()),
    clusters: z.optional(z.array(z.string())),
    tid: z.optional(z.string()),
    jti: z.string(),
  }),
);

/** Why a token was refused, for logs; clients only ever see "invalid token". */
export class TokenRejected extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'TokenRejected';
  }
}

interface VerifyOptions {
  issuer: string;
  now: Date;
  /** User JWTs: the longest lifetime this API issues; a token claiming a longer one was not made by it as configured. */
  maxLifetimeSeconds?: number;
}

/** The clock skew accepted on `exp` and `iat`. */
const clockToleranceSeconds = 30;

/** Fetches the key set; `fresh` asks for a re-read, used once when a token names an unknown `kid`. */
export type JwksSource = (fresh: boolean) => Promise<JSONWebKeySet>;

/**
 * One jose key set per JWKS object, kept as long as the object is: jose imports each key once per
 * set, so a set made per request would import the key on every verification.
 */
const keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();

function localKeySet(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let keySet = keySets.get(jwks);
  if (!keySet) keySets.set(jwks, (keySet = createLocalJWKSet(jwks)));
  return keySet;
}

async function verify(token: string, jwks: JwksSource, typ: string, audience: string, options: VerifyOptions): Promise<JWTPayload> {
  const attempt = async (fresh: boolean) =>
    jwtVerify(token, localKeySet(await jwks(fresh)), {
      algorithms: [signingAlgorithm],
      issuer: options.issuer,
      audience,
      typ,
      currentDate: options.now,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      clockTolerance: clockToleranceSeconds,
    });
  try {
    try {
      return (await attempt(false)).payload;
    } catch (error) {
      // A key rotated in since the cached key set was read: look once more, then give up.
      if (error instanceof errors.JWKSNoMatchingKey) return (await attempt(true)).payload;
      throw error;
    }
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenRejected(`token refused: ${error.code}`, error.code);
    throw error;
  }
}

/** Verifies a user JWT and returns the caller it names and its `exp` (epoch seconds). Throws TokenRejected. */
export async function verifyUserToken(token: string, jwks: JwksSource, options: VerifyOptions): Promise<{ caller: Caller; exp: number }> {
  const payload = await verify(token, jwks, userTokenType, userAudience, options);
  const claims = userClaims().safeParse(payload);
  // jwtVerify requires `exp` and checks it is a number; the type does not know.
  if (!claims.success || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') throw new TokenRejected('token refused: malformed claims', 'ERR_CLAIMS');
  if (payload.iat > options.now.getTime() / 1000 + clockToleranceSeconds) throw new TokenRejected('token refused: issued in the future', 'ERR_IAT_FUTURE');
  if (options.maxLifetimeSeconds !== undefined && payload.exp - payload.iat > options.maxLifetimeSeconds + clockToleranceSeconds) {
    throw new TokenRejected('token refused: lives longer than this API issues', 'ERR_LIFETIME');
  }
  const { sub, login, level, orgs, scope, clusters, tid, jti } = claims.data;
  const scopes = scope === undefined ? undefined : scope.split(' ');
  // An unknown scope means another issuer's idea of scopes: the token is not one this API made.
  if (scopes?.some((s) => !(apiTokenScopes as readonly string[]).includes(s))) throw new TokenRejected('token refused: unknown scope', 'ERR_SCOPE');
  const caller: Caller = {
    sub,
    login,
    level,
    orgs,
    ...(scopes && { scopes: scopes as Caller['scopes'] }),
    ...(scopes && clusters && { clusters }),
    session: { jti, exp: payload.exp, ...(tid !== undefined && { tokenId: tid }) },
  };
  return { caller, exp: payload.exp };
}

export interface ClusterClaims {
  sub: string;
  level: Level;
  cluster: string;
  expiresAt: Date;
}

const clusterClaims = once(() => z.object({ sub: z.string(), level: z.enum(levels), aud: z.string(), exp: z.number() }));

/** Verifies a cluster JWT for one cluster. Throws TokenRejected. */
export async function verifyClusterToken(token: string, cluster: string, jwks: JwksSource, options: VerifyOptions): Promise<ClusterClaims> {
  const payload = await verify(token, jwks, clusterTokenType, cluster, options);
  const claims = clusterClaims().safeParse({ ...payload, aud: cluster });
  if (!claims.success) throw new TokenRejected('token refused: malformed claims', 'ERR_CLAIMS');
  return { sub: claims.data.sub, level: claims.data.level, cluster, expiresAt: new Date(claims.data.exp * 1000) };
}
