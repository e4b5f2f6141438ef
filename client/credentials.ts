import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Call, createCall } from './call.js';
import { writePrivateFile } from './private-file.js';
import type { ClientConfig } from './config.js';
import { ProvisionerApiError, type Session, sleep } from './session.js';
import { fileTokenCache } from './token-cache.js';
import type { LoginResult } from './types.js';

interface CachedToken {
  url: string;
  token: string;
  expires_at: string;
  /** Present when the login came from an API token: a hash naming it (never the token). */
  api_token?: string;
}

/** How the cache names the API token a login came from (the Python client's `api_token_hash`). */
const apiTokenHash = (apiToken: string) => createHash('sha256').update(apiToken).digest('hex').slice(0, 32);

/** Renew a user JWT this long before it expires. */
const renewBeforeMs = 5 * 60_000;

/**
 * The user JWT: the configured one (PROVISIONER_TOKEN), else the cached one while it has more than
 * five minutes left and the API has not refused it, else a fresh login with the configured API token
 * (PROVISIONER_API_TOKEN), the configured GitHub token or, inside GitHub Actions with `id-token: write`, an OIDC token. The cache is a 0600 file
 * per API URL.
 */
export class Credentials {
  private current?: CachedToken;
  private readonly call: Call;

  constructor(
    private readonly config: ClientConfig,
    session: Session,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly now: () => number = Date.now,
  ) {
    this.call = createCall(session);
  }

  private get cacheFile(): string {
    return join(this.config.cacheDir, 'credentials.json');
  }

  /**
   * The user JWT to send. Given the one the API just refused, forgets it, and the cluster JWTs cached
   * for this API (signed with the same keys), before looking for another: a configured token stays
   * (it is the user's to replace), a cached one gives way to a fresh login when one is possible.
   */
  async userToken(refused?: string): Promise<string | undefined> {
    if (refused !== undefined) this.forgetRefused(refused);
    if (this.config.token) return this.config.token;
    const cached = this.current ?? this.readCache();
    // A cached login serves only the credential it came from: a job's API token never runs with a
    // person's cached session on the same machine, nor the person with the job's narrow one.
    const sameCredential = cached?.api_token === (this.config.apiToken === undefined ? undefined : apiTokenHash(this.config.apiToken));
    if (cached && sameCredential && Date.parse(cached.expires_at) - this.now() > renewBeforeMs) return (this.current = cached).token;
    if (this.config.apiToken) return (await this.loginWithApiToken(this.config.apiToken)).token;
    if (this.config.githubToken) return (await this.loginWithGitHubToken(this.config.githubToken)).token;
    if (this.inGitHubActions()) return (await this.loginWithGitHubActions()).token;
    return undefined;
  }

  async loginWithGitHubToken(githubToken: string): Promise<LoginResult> {
    return this.save(await this.call('login', { body: { github_token: githubToken } }));
  }

  /** Exchanges a Provisioner API token (`prv_…`) for a user JWT carrying its scopes; renewed the same way when close to expiry. */
  async loginWithApiToken(apiToken: string): Promise<LoginResult> {
    return this.save(await this.call('login', { body: { api_token: apiToken } }), apiTokenHash(apiToken));
  }

  inGitHubActions(): boolean {
    return Boolean(this.env.ACTIONS_ID_TOKEN_REQUEST_URL && this.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  }

  /** Requests an OIDC token from the Actions runtime (needs `permissions: id-token: write`) and logs in with it. */
  async loginWithGitHubActions(): Promise<LoginResult> {
    const { ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken } = this.env;
    if (!requestUrl || !requestToken) {
      throw new ProvisionerApiError(0, 'not_in_github_actions', 'No GitHub Actions OIDC token available: run inside a job with "permissions: id-token: write".');
    }
    const url = new URL(requestUrl);
    url.searchParams.set('audience', this.config.audience);
    const response = await fetch(url, { headers: { authorization: `bearer ${requestToken}` }, signal: AbortSignal.timeout(this.config.timeoutMs) });
    if (!response.ok) throw new ProvisionerApiError(response.status, 'oidc_request_failed', `GitHub Actions refused an OIDC token (HTTP ${response.status}).`);
    const { value } = (await response.json()) as { value?: string };
    if (!value) throw new ProvisionerApiError(0, 'oidc_request_failed', 'GitHub Actions answered without a token.');
    return this.save(await this.call('login', { body: { oidc_token: value } }));
  }

  /**
   * GitHub's device flow: shows a code to enter at GitHub, waits for the user, then logs in with the
   * token GitHub issues. Needs the OAuth app's client id.
   */
  async loginWithDeviceFlow(prompt: (verificationUri: string, userCode: string) => void): Promise<LoginResult> {
    const clientId = this.config.clientId;
    if (!clientId) throw new ProvisionerApiError(0, 'no_client_id', 'The device flow needs an OAuth app client id: set client_id in [defaults] or PROVISIONER_CLIENT_ID.');
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    const started = (await (await fetch(`${this.config.githubUrl}/login/device/code`, form({ client_id: clientId, scope: 'read:org' }))).json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
      expires_in: number;
      interval: number;
    };
    prompt(started.verification_uri, started.user_code);
    let interval = started.interval * 1000;
    const deadline = this.now() + started.expires_in * 1000;
    while (this.now() < deadline) {
      await sleep(interval);
      const answer = (await (
        await fetch(
          `${this.config.githubUrl}/login/oauth/access_token`,
          form({ client_id: clientId, device_code: started.device_code, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }),
        )
      ).json()) as { access_token?: string; error?: string };
      if (answer.access_token) return this.loginWithGitHubToken(answer.access_token);
      if (answer.error === 'slow_down') interval += 5000;
      else if (answer.error !== 'authorization_pending') throw new ProvisionerApiError(401, 'device_flow_failed', `GitHub ended the device flow: ${answer.error ?? 'no token'}.`);
    }
    throw new ProvisionerApiError(0, 'timeout', 'The device code expired before it was entered; run login again.');
  }

  logout(): void {
    this.current = undefined;
    rmSync(this.cacheFile, { force: true });
  }

  /**
   * Ends the session at the API too (`POST /v1/logout` revokes the user JWT, everywhere within a
   * minute), then forgets it. Only a JWT already held is ended: logging in just to log out is not.
   * One the API refuses already (401) is over anyway.
   */
  async logoutEverywhere(): Promise<{ revoked: boolean }> {
    const held = this.config.token ?? this.current ?? this.readCache();
    const live = held !== undefined && (typeof held === 'string' || Date.parse(held.expires_at) > this.now());
    try {
      if (!live) return { revoked: false };
      await this.call('logout');
      return { revoked: true };
    } catch (error) {
      if (error instanceof ProvisionerApiError && error.status === 401) return { revoked: false };
      throw error;
    } finally {
      this.logout();
    }
  }

  private forgetRefused(refused: string): void {
    fileTokenCache(this.config.cacheDir).forget(this.config.url);
    // Only if still cached: a request running alongside may have replaced it already.
    if ((this.current ?? this.readCache())?.token === refused) this.logout();
  }

  private save(result: LoginResult, apiToken?: string): LoginResult {
    this.current = { url: this.config.url, token: result.token, expires_at: result.expires_at, ...(apiToken !== undefined && { api_token: apiToken }) };
    writePrivateFile(this.cacheFile, JSON.stringify(this.current));
    return result;
  }

  private readCache(): CachedToken | undefined {
    try {
      const cached = JSON.parse(readFileSync(this.cacheFile, 'utf8')) as CachedToken;
      return cached.url === this.config.url ? cached : undefined;
    } catch {
      return undefined;
    }
  }
}
