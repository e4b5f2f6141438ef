import type { Command } from './commands.js';
import { optionString } from './commands.js';
import { UsageError } from './output.js';

export const authCommands: Record<string, Command> = {
  login: {
    usage: 'login [--token - | --github-actions]',
    summary: 'Log in: GitHub device flow by default, a GitHub token read from stdin with --token -, or the Actions OIDC token',
    options: { token: { type: 'string' }, 'github-actions': { type: 'boolean' } },
    async run(context) {
      const { client, out } = context;
      let token = optionString(context, 'token');
      if (token !== undefined && context.options['github-actions']) throw new UsageError('use either --token or --github-actions');
      // From stdin the token stays out of shell history and `ps`; --token TOKEN still works for old scripts.
      if (token === '-') {
        if (process.stdin.isTTY) process.stderr.write('Paste a GitHub token, then Enter and Ctrl-D:\n');
        token = (await readStdin()).trim();
        if (!token) throw new UsageError('no GitHub token on stdin; try: gh auth token | provisioner login --token -');
      }
      if (token === '') throw new UsageError('--token is empty; pass the token on stdin: gh auth token | provisioner login --token -');
      const result = token
        ? await client.auth.login(token)
        : context.options['github-actions']
          ? await client.auth.loginWithGitHubActions()
          : await client.auth.loginWithDeviceFlow((uri, code) => process.stderr.write(`Open ${uri} and enter the code ${code}\n`));
      out.result(result.user, `Logged in as ${result.user.login} (${result.user.level}) until ${result.expires_at}.`);
    },
  },
  logout: {
    usage: 'logout',
    summary: 'End the session: the API refuses its user token from now on, and the cached one is forgotten',
    async run({ client, out }) {
      const { revoked } = await client.auth.logoutEverywhere();
      out.result({ logged_out: true, revoked }, revoked ? 'Logged out; the API refuses that session from now on.' : 'Logged out.');
    },
  },
  whoami: {
    usage: 'whoami',
    summary: 'Who the API says you are',
    async run({ client, out }) {
      const me = await client.auth.whoami();
      out.result(me, `${me.login ?? 'anonymous'} (${me.level})${me.orgs.length > 0 ? `, member of ${me.orgs.join(', ')}` : ''}`);
    },
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
