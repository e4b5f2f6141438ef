import { type ErrorCode, ProvisionerError } from '../../domain/errors.js';
import type { DeviceCode, GitHubDeviceFlow } from '../../ports.js';

/** GitHub's answers while the user has not finished, mapped to the API's codes and messages. */
const pollErrors: Record<string, [ErrorCode, string]> = {
  authorization_pending: ['authorization_pending', 'The code has not been entered at GitHub yet; poll again after the interval.'],
  slow_down: ['slow_down', 'Polling too fast for GitHub; wait 5 seconds longer between polls.'],
  expired_token: ['device_code_expired', 'The device code expired before it was entered; start the login again.'],
  access_denied: ['device_flow_denied', 'The login was cancelled at GitHub.'],
};

/** GitHub's answers that say this API's OAuth app cannot do a device login: no fault of the caller's, and no retry helps. */
const appErrors = new Set(['incorrect_client_credentials', 'device_flow_disabled', 'unsupported_grant_type']);

const grantType = 'urn:ietf:params:oauth:grant-type:device_code';

/** 501 like an API without an app, so the console offers the pasted token instead. */
function appRefused(error: string): ProvisionerError {
  return new ProvisionerError(
    'device_flow_not_configured',
    `GitHub refused this API's OAuth app (${error}): check PROVISIONER_GITHUB_CLIENT_ID and that the app's device flow is enabled; log in with a GitHub token meanwhile.`,
  );
}

/** GitHub's error code, quoted only when it looks like one (a code, not text from elsewhere). */
function errorCodeOf(answer: Record<string, unknown>): string | undefined {
  return typeof answer.error === 'string' && /^[a-z_]{1,64}$/.test(answer.error) ? answer.error : undefined;
}

/**
 * GitHub's device flow at `githubUrl` (github.com, a GitHub Enterprise server, or the tests' fake)
 * for the OAuth app `clientId`. The token GitHub issues goes back to the caller only; it is never
 * stored or logged here.
 */
export class GitHubDeviceFlowClient implements GitHubDeviceFlow {
  constructor(
    private readonly githubUrl: string,
    private readonly clientId: string | undefined,
    private readonly timeoutMs = 8_000,
  ) {}

  async start(): Promise<DeviceCode> {
    const answer = await this.post('/login/device/code', { scope: 'read:org' });
    const { device_code, user_code, verification_uri, interval, expires_in } = answer;
    if (typeof device_code !== 'string' || typeof user_code !== 'string' || typeof verification_uri !== 'string') {
      const error = errorCodeOf(answer);
      if (error && appErrors.has(error)) throw appRefused(error);
      throw new ProvisionerError('github_unavailable', `GitHub did not start a device login${error ? ` (${error})` : ''}; check the OAuth app (PROVISIONER_GITHUB_CLIENT_ID) and that its device flow is enabled.`);
    }
    return {
      deviceCode: device_code,
      userCode: user_code,
      verificationUri: verification_uri,
      interval: typeof interval === 'number' ? interval : 5,
      expiresIn: typeof expires_in === 'number' ? expires_in : 900,
    };
  }

  async poll(deviceCode: string): Promise<string> {
    const answer = await this.post('/login/oauth/access_token', { device_code: deviceCode, grant_type: grantType });
    if (typeof answer.access_token === 'string' && answer.access_token !== '') return answer.access_token;
    const error = errorCodeOf(answer);
    if (error && appErrors.has(error)) throw appRefused(error);
    const known = error ? pollErrors[error] : undefined;
    if (!known) throw new ProvisionerError('invalid_device_code', 'GitHub does not know that device code; start the login again.');
    const [code, message] = known;
    if (code !== 'slow_down') throw new ProvisionerError(code, message);
    const interval = typeof answer.interval === 'number' ? answer.interval : 10;
    throw new ProvisionerError(code, message, { interval }, { 'retry-after': String(interval) });
  }

  private async post(path: string, fields: Record<string, string>): Promise<Record<string, unknown>> {
    if (!this.clientId) {
      throw new ProvisionerError('device_flow_not_configured', 'This API has no GitHub OAuth app (PROVISIONER_GITHUB_CLIENT_ID): log in with a GitHub token instead.');
    }
    let response: Response;
    try {
      response = await fetch(`${this.githubUrl.replace(/\/$/, '')}${path}`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'provisioner' },
        body: new URLSearchParams({ client_id: this.clientId, ...fields }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ProvisionerError('github_unavailable', `GitHub could not be reached (${(error as Error).name}); retry shortly.`);
    }
    if (response.status >= 500) throw new ProvisionerError('github_unavailable', `GitHub could not be reached (HTTP ${response.status}); retry shortly.`);
    try {
      return (await response.json()) as Record<string, unknown>;
    } catch {
      throw new ProvisionerError('github_unavailable', `GitHub answered the device flow with something other than JSON (HTTP ${response.status}).`);
    }
  }
}
