import * as core from '@actions/core';
import { createCall } from '../client/call.js';
import { clustersService } from '../client/clusters.js';
import { ConfigError, loadConfig } from '../client/config.js';
import { runsService } from '../client/runs.js';
import { ProvisionerApiError, Session } from '../client/session.js';

/** The inputs every action shares: where the API is and the audience of the job's OIDC token. */
export function connectionInputs(): { url: string; audience: string } {
  return { url: core.getInput('url', { required: true }), audience: core.getInput('audience') || 'provisioner' };
}

/**
 * Logs in with the job's OIDC token (`permissions: id-token: write`) and returns the SDK's services
 * for the user JWT it gives. The JWT stays in memory (masked): no credentials or token cache file
 * is written on the runner.
 */
export async function connect({ url, audience }: { url: string; audience: string }) {
  // The action's settings are its inputs: no config file (an empty path is none) and no PROVISIONER_* variables.
  const config = loadConfig({ PROVISIONER_URL: url, PROVISIONER_OIDC_AUDIENCE: audience, PROVISIONER_CONFIG: '' });
  let oidcToken: string;
  try {
    oidcToken = await core.getIDToken(config.audience);
  } catch (error) {
    throw new ProvisionerApiError(0, 'oidc_request_failed', `No GitHub Actions OIDC token: give the job "permissions: id-token: write" (${(error as Error).message.trim()}).`);
  }
  const { token, user } = await createCall(new Session(config))('login', { body: { oidc_token: oidcToken } });
  core.setSecret(token);
  core.info(`Logged in to ${config.url} as ${user.login}.`);
  const session = new Session(config, async () => token);
  return { clusters: clustersService(session), runs: runsService(session) };
}

/** A failure as the job should show it: the API's message and its stable code, never a stack trace. */
export function failureMessage(error: unknown): string {
  if (error instanceof ProvisionerApiError) return `${error.message} (${error.code}${error.requestId ? `, request ${error.requestId}` : ''})`;
  if (error instanceof ConfigError) return `Input ${error.field}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Runs an action's body, failing the step with a clear message on any error. */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    core.setFailed(failureMessage(error));
  }
}

/** The job summary is HTML: text from the API or a log is shown, never interpreted. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
