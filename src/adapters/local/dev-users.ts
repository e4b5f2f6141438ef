import { readFileSync } from 'node:fs';
import type { GitHubAccount, GitHubUsers } from '../../ports.js';
import * as z from '../../zod.js';

const devUsersSchema = () =>
  z.record(
    z.string().check(z.minLength(8, 'dev tokens must be at least 8 characters')),
    z.strictObject({ login: z.string().check(z.minLength(1)), orgs: z._default(z.array(z.string()), []), admin_team: z._default(z.boolean(), false) }),
  );

/**
 * Local only: static dev tokens (PROVISIONER_DEV_USERS, a JSON file `{"<token>": {"login", "orgs",
 * "admin_team"}}`) that log in without GitHub; any other token goes to GitHub as usual.
 */
export class DevUsers implements GitHubUsers {
  private readonly users: z.output<ReturnType<typeof devUsersSchema>>;

  constructor(
    path: string,
    private readonly github: GitHubUsers,
  ) {
    const parsed = devUsersSchema().safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path} is not a valid dev users file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.users = parsed.data;
  }

  async lookup(token: string, orgs: string[], adminTeam: { org: string; team: string } | undefined): Promise<GitHubAccount> {
    const user = this.users[token];
    if (!user) return this.github.lookup(token, orgs, adminTeam);
    return { login: user.login, orgs: user.orgs.filter((org) => orgs.includes(org)), teamMember: user.admin_team && adminTeam !== undefined };
  }
}
