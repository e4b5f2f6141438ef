import { GitHubDeviceFlowClient } from '../../adapters/github/device-flow.js';
import { identitySettings, readEnv } from '../../config.js';
import { once } from '../../once.js';

/**
 * The console's device login, for the OAuth app the stack names (none: the routes answer 501). A
 * module of its own, so that `login-device` does not bundle Octokit, which it never uses.
 */
export const githubDevice = once(() => {
  const { PROVISIONER_GITHUB_URL, PROVISIONER_GITHUB_CLIENT_ID } = readEnv({
    PROVISIONER_GITHUB_URL: identitySettings().PROVISIONER_GITHUB_URL,
    PROVISIONER_GITHUB_CLIENT_ID: identitySettings().PROVISIONER_GITHUB_CLIENT_ID,
  });
  return new GitHubDeviceFlowClient(PROVISIONER_GITHUB_URL, PROVISIONER_GITHUB_CLIENT_ID);
});
