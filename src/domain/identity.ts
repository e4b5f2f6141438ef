import type { ActionsClaims, GitHubAccount } from '../ports.js';
import type { Catalog } from './catalog.js';
import { ProvisionerError } from './errors.js';
import { atLeast, type Caller } from './levels.js';

/** Every organization the catalog names: membership in each is looked up at login. */
export function catalogOrgs(catalog: Catalog): string[] {
  return [...new Set([catalog.organization, ...catalog.clusters.flatMap((c) => (c.org ? [c.org] : []))])];
}

/**
 * The seed's four levels: administrator = listed in `admins` or on the admin team; org member = an
 * active member of the catalog's organization; any other valid GitHub user = github member.
 */
export function callerFromGitHub(account: GitHubAccount, catalog: Catalog): Caller {
  const admin = catalog.admins.some((a) => a.toLowerCase() === account.login.toLowerCase()) || account.teamMember;
  const member = account.orgs.includes(catalog.organization);
  return {
    sub: `github:${account.login}`,
    login: account.login,
    level: admin ? 'administrator' : member ? 'org_member' : 'github_member',
    orgs: account.orgs,
  };
}

/**
 * A GitHub Actions workflow gets the level of the catalog rule matching its `repository` and `ref`
 * claims (never parsed out of `sub`), and its `repository_id` where the rule pins one; no rule, no login.
 */
export function callerFromActions(claims: ActionsClaims, catalog: Catalog): Caller {
  const rule = catalog.actions.find(
    (r) => r.repository.toLowerCase() === claims.repository.toLowerCase() && r.ref === claims.ref && (r.repository_id === undefined || r.repository_id === claims.repositoryId),
  );
  if (!rule) {
    throw new ProvisionerError('repository_not_allowed', `No catalog rule lets ${claims.repository} at ${claims.ref} log in; add one under "actions".`, {
      repository: claims.repository,
      ref: claims.ref,
    });
  }
  return {
    sub: `actions:${claims.repository}`,
    login: claims.repository,
    level: rule.level,
    // The catalog granted this workflow member rights in its organization.
    orgs: atLeast(rule.level, 'org_member') ? [catalog.organization] : [],
  };
}
