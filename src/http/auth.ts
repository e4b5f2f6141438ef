import { ProvisionerError } from '../domain/errors.js';
import { anonymousCaller, type Caller } from '../domain/levels.js';
import { rateWindow } from '../domain/rate-limit.js';
import { rateKey } from '../store/keys.js';
import type { AuthDeps } from '../deps.js';
import { revocationListOf } from '../tokens/revocations.js';
import { TokenRejected } from '../tokens/tokens.js';
import { VerifiedUserTokens } from '../tokens/verified-tokens.js';
import type { Log } from '../log.js';
import { RateLeases } from './rate-leases.js';
import type { HttpEvent } from './types.js';

/** One cache per container: a client's token is checked once, not on every request it sends. */
const userTokens = new VerifiedUserTokens();

/**
 * The caller a request's bearer token names: no header is anonymous; anything but a valid user JWT
 * (algorithm, issuer, audience and `typ` pinned) is 401 `invalid_token`, never a 500.
 */
export async function authenticate(event: HttpEvent, deps: AuthDeps, log: Log): Promise<Caller> {
  const header = event.headers?.authorization;
  if (header === undefined || header.trim() === '') return anonymousCaller;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
  if (!match?.[1]) throw invalidToken('the Authorization header must be "Bearer <token>"');
  try {
    const now = deps.clock.now();
    const caller = await userTokens.verify(match[1], (fresh) => deps.publicKeys.jwks(fresh), { issuer: deps.tokenSettings.issuer, now, maxLifetimeSeconds: deps.tokenSettings.userTokenTtlSeconds });
    // tokens: logged out, or made from a revoked API token (the list is read at most once a minute).
    if (await revocationListOf(deps.store).refuses(caller, now, log)) throw new TokenRejected('token refused: revoked', 'ERR_REVOKED');
    return caller;
  } catch (error) {
    if (error instanceof TokenRejected) {
      log.info('token refused', { reason: error.reason });
      throw invalidToken(error.reason === 'ERR_REVOKED' ? 'it was logged out or its API token revoked' : 'it is expired, malformed, or not one this API issued');
    }
    throw error;
  }
}

function invalidToken(why: string): ProvisionerError {
  return new ProvisionerError('invalid_token', `The bearer token was refused: ${why}. Log in again (POST /v1/login).`);
}

/** A caller's requests in one process are counted ahead, several per ADD (see RateLeases). */
const counters = new RateLeases();

/**
 * Counts the request against the caller's window (an atomic ADD) and rejects with 429 and
 * Retry-After when over. A store failure lets the request through: the limit guards against abuse,
 * it does not authorize.
 */
export async function enforceRateLimit(caller: Caller, sourceIp: string, deps: AuthDeps, log: Log): Promise<void> {
  const now = deps.clock.now();
  const window = rateWindow(caller, sourceIp, deps.catalog, now);
  if (!window) return;
  try {
    if (await counters.admit(deps.store, rateKey(window.subject, window.index), window.endsAt, window.limit)) return;
  } catch (error) {
    log.warn('rate limit not counted', { error: (error as Error).message });
    return;
  }
  const retryAfter = Math.max(1, window.endsAt - Math.floor(now.getTime() / 1000));
  throw new ProvisionerError(
    'rate_limited',
    `Too many requests: ${window.limit} per window for ${caller.level === 'anonymous' ? 'your network' : 'you'}; retry in ${retryAfter} s${caller.level === 'anonymous' ? ', or log in for a higher limit' : ''}.`,
    { limit: window.limit, retry_after: retryAfter },
    { 'retry-after': String(retryAfter) },
  );
}
