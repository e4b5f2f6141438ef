import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Clock } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import type { ActionsClaims, ActionsTokens } from '../../ports.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';

const discovery = once(() => z.object({ issuer: z.string(), jwks_uri: z.url() }));
// GitHub sends repository_id as a string of digits.
const claims = once(() => z.object({ repository: z.string(), repository_owner: z.string(), ref: z.string(), repository_id: z.optional(z.string()) }));

/**
 * Verifies GitHub Actions OIDC tokens: the issuer's discovery document gives its JWKS (fetched and
 * cached by jose per warm container); RS256 only, exact issuer, our audience.
 */
export class GitHubActionsTokens implements ActionsTokens {
  private keys?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(
    private readonly issuer: string,
    private readonly audience: string,
    private readonly clock: Clock,
  ) {}

  async verify(token: string): Promise<ActionsClaims> {
    const keys = await this.keySet();
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer: this.issuer,
        audience: this.audience,
        currentDate: this.clock.now(),
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: 30,
      });
      const parsed = claims().parse(payload);
      return { repository: parsed.repository, repositoryOwner: parsed.repository_owner, ref: parsed.ref, ...(parsed.repository_id !== undefined && { repositoryId: parsed.repository_id }) };
    } catch (error) {
      if (error instanceof errors.JWKSTimeout || isNetworkError(error)) throw unavailable();
      throw new ProvisionerError('invalid_oidc_token', `The GitHub Actions token was refused (${reason(error)}); request one with the audience "${this.audience}".`);
    }
  }

  private keySet() {
    this.keys ??= this.discover().catch((error: unknown) => {
      this.keys = undefined;
      throw error;
    });
    return this.keys;
  }

  private async discover() {
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: z.output<ReturnType<typeof discovery>>;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = discovery().parse(await response.json());
    } catch {
      throw unavailable();
    }
    if (document.issuer !== this.issuer) throw unavailable();
    return createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: 5_000 });
  }
}

function unavailable(): ProvisionerError {
  return new ProvisionerError('github_unavailable', 'The GitHub Actions OIDC issuer could not be reached; retry shortly.');
}

function isNetworkError(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return error instanceof TypeError || name === 'AbortError' || name === 'TimeoutError';
}

function reason(error: unknown): string {
  if (error instanceof errors.JOSEError) return error.code;
  return 'malformed claims';
}
