import { GitHubActionsTokens } from '../../adapters/github/actions-oidc.js';
import { OctokitGitHubUsers } from '../../adapters/github/github-users.js';
import { identitySettings, readEnv } from '../../config.js';
import { systemClock } from '../../domain/clock.js';
import { once } from '../../once.js';

export const githubUsers = once(() => {
  const { PROVISIONER_GITHUB_API_URL } = readEnv({ PROVISIONER_GITHUB_API_URL: identitySettings().PROVISIONER_GITHUB_API_URL });
  return new OctokitGitHubUsers(PROVISIONER_GITHUB_API_URL);
});

/** One verifier per warm container, so the issuer's JWKS stays cached between logins. */
export const actionsTokens = once(() => {
  const { PROVISIONER_GITHUB_OIDC_ISSUER, PROVISIONER_OIDC_AUDIENCE } = readEnv({
    PROVISIONER_GITHUB_OIDC_ISSUER: identitySettings().PROVISIONER_GITHUB_OIDC_ISSUER,
    PROVISIONER_OIDC_AUDIENCE: identitySettings().PROVISIONER_OIDC_AUDIENCE,
  });
  return new GitHubActionsTokens(PROVISIONER_GITHUB_OIDC_ISSUER, PROVISIONER_OIDC_AUDIENCE, systemClock);
});
