import type { ClusterEntry, Catalog } from './catalog.js';
import { ProvisionerError } from './errors.js';
import { atLeast, type Caller, type Level } from './levels.js';

/** A route's minimum level: anonymous callers are asked to log in, others are refused. */
export function requireLevel(caller: Caller, required: Level): void {
  if (atLeast(caller.level, required)) return;
  if (caller.level === 'anonymous') {
    throw new ProvisionerError('authentication_required', 'Log in first (POST /v1/login) and send the token as "Authorization: Bearer <token>".');
  }
  throw new ProvisionerError('forbidden', `This needs the ${required} level; you are ${caller.level}.`);
}

function clusterOrg(cluster: ClusterEntry, catalog: Catalog): string {
  return cluster.org ?? catalog.organization;
}

/** ACCESS: anyone to a public cluster; a member of its organization or an administrator to a private one. */
export function authorizeAccess(caller: Caller, cluster: ClusterEntry, catalog: Catalog): void {
  if (cluster.visibility === 'public' || caller.level === 'administrator') return;
  const org = clusterOrg(cluster, catalog);
  if (caller.orgs.includes(org) && atLeast(caller.level, 'github_member')) return;
  if (caller.level === 'anonymous') {
    throw new ProvisionerError('authentication_required', `${cluster.name} is private: log in as a member of ${org} first.`);
  }
  throw new ProvisionerError('forbidden', `${cluster.name} is private to members of ${org}.`);
}
