import type * as OctokitModule from '@octokit/rest';
import { ProvisionerError } from '../../domain/errors.js';
import type { GitHubAccount, GitHubUsers } from '../../ports.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Who a GitHub user token belongs to, through @octokit/rest against `baseUrl` (api.github.com, a
 * GitHub Enterprise server, or the tests' fake). The token is used for these calls and then dropped:
 * never stored, logged or echoed.
 */
export class OctokitGitHubUsers implements GitHubUsers {
  /** Octokit loads on the first login, not at cold start: about 30 ms that other requests never need. */
  private octokit?: Promise<typeof OctokitModule>;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 8_000,
  ) {}

  async lookup(token: string, orgs: string[], adminTeam: { org: string; team: string } | undefined): Promise<GitHubAccount> {
    const { Octokit } = await (this.octokit ??= import('@octokit/rest'));
    const octokit = new Octokit({ auth: token, baseUrl: this.baseUrl, log: silent, userAgent: 'provisioner', request: { signal: AbortSignal.timeout(this.timeoutMs) } });
    let login: string;
    try {
      login = (await octokit.rest.users.getAuthenticated()).data.login;
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 || status === 403) {
        throw new ProvisionerError('invalid_github_token', 'GitHub did not accept that token; create a new one (no scopes needed beyond read:org) and log in again.');
      }
      throw unavailable(error);
    }
    const [teamMember, ...memberships] = await Promise.all([
      adminTeam
        ? active(() => octokit.rest.teams.getMembershipForUserInOrg({ org: adminTeam.org, team_slug: adminTeam.team, username: login }).then((r) => r.data.state))
        : false,
      ...orgs.map((org) => active(() => octokit.rest.orgs.getMembershipForAuthenticatedUser({ org }).then((r) => r.data.state))),
    ]);
    return { login, orgs: orgs.filter((_, i) => memberships[i]), teamMember };
  }
}

/** An active membership is a member; 404 (or 403: not visible to this token) is not. */
async function active(read: () => Promise<string>): Promise<boolean> {
  try {
    return (await read()) === 'active';
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 || status === 403) return false;
    throw unavailable(error);
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

function unavailable(error: unknown): ProvisionerError {
  const status = statusOf(error);
  return new ProvisionerError('github_unavailable', `GitHub could not be reached (${status ? `HTTP ${status}` : (error as Error).name}); retry shortly.`);
}
