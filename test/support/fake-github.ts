import { closeServer, listenLocal } from './http.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FakeUser {
  login: string;
  /** org → membership state ("active" or "pending"). */
  orgs?: Record<string, 'active' | 'pending'>;
  /** "org/team" → membership state. */
  teams?: Record<string, 'active' | 'pending'>;
}

/**
 * A small GitHub REST server on 127.0.0.1: the user, org-membership and team-membership endpoints
 * that login calls, keyed by token. `down = true` answers 502 to everything.
 */
export class FakeGitHub {
  readonly users = new Map<string, FakeUser>();
  readonly requests: { method: string; path: string; authorization?: string }[] = [];
  down = false;
  /** The device flow: the token GitHub hands out once the user has entered the code (after one pending poll). */
  deviceToken?: string;
  private devicePolls = 0;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.url = await listenLocal(this.server);
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.down) return send(502, { message: 'Bad Gateway' });
    if (path === '/login/device/code' && req.method === 'POST') {
      this.devicePolls = 0;
      return send(200, { device_code: 'device-1', user_code: 'WDJB-MJHT', verification_uri: `${this.url}/login/device`, expires_in: 60, interval: 0 });
    }
    if (path === '/login/oauth/access_token' && req.method === 'POST') {
      this.devicePolls += 1;
      if (!this.deviceToken) return send(200, { error: 'access_denied' });
      return send(200, this.devicePolls < 2 ? { error: 'authorization_pending' } : { access_token: this.deviceToken, token_type: 'bearer', scope: 'read:org' });
    }
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const user = token ? this.users.get(token) : undefined;
    if (!user) return send(401, { message: 'Bad credentials' });
    let match: RegExpExecArray | null;
    if (path === '/user') return send(200, { login: user.login, id: 1 });
    if ((match = /^\/user\/memberships\/orgs\/([^/]+)$/.exec(path))) {
      const state = user.orgs?.[match[1] ?? ''];
      return state ? send(200, { state, role: 'member', organization: { login: match[1] } }) : send(404, { message: 'Not Found' });
    }
    if ((match = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path))) {
      const state = user.teams?.[`${match[1]}/${match[2]}`];
      return state && match[3] === user.login ? send(200, { state, role: 'member' }) : send(404, { message: 'Not Found' });
    }
    send(404, { message: 'Not Found' });
  }
}
