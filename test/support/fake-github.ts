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
  /** The device flow: the token GitHub hands out once the user has entered the code (after `devicePendingPolls` pending polls). */
  deviceToken?: string;
  devicePendingPolls = 1;
  /** What a poll answers while there is no `deviceToken`: the user cancelled, unless a test sets e.g. `authorization_pending` and approves later. */
  deviceError = 'access_denied';
  /** What GitHub answers both device-flow endpoints instead (e.g. `device_flow_disabled`: the app's device flow is off). */
  deviceAppError?: string;
  /** The form fields each device-flow request sent (client_id, device_code, grant_type, scope). */
  readonly deviceRequests: Record<string, string>[] = [];
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
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.answer(req, res, Buffer.concat(chunks).toString()));
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.down) return send(502, { message: 'Bad Gateway' });
    if (this.deviceAppError && path.startsWith('/login/')) return send(200, { error: this.deviceAppError, error_description: 'refused' });
    if (path === '/login/device/code' && req.method === 'POST') {
      this.deviceRequests.push(Object.fromEntries(new URLSearchParams(body)));
      this.devicePolls = 0;
      return send(200, { device_code: 'device-1', user_code: 'WDJB-MJHT', verification_uri: `${this.url}/login/device`, expires_in: 60, interval: 0 });
    }
    if (path === '/login/oauth/access_token' && req.method === 'POST') {
      const fields = Object.fromEntries(new URLSearchParams(body));
      this.deviceRequests.push(fields);
      if (fields.device_code !== 'device-1') return send(200, { error: 'incorrect_device_code' });
      this.devicePolls += 1;
      if (!this.deviceToken) return send(200, { error: this.deviceError });
      return send(200, this.devicePolls <= this.devicePendingPolls ? { error: 'authorization_pending' } : { access_token: this.deviceToken, token_type: 'bearer', scope: 'read:org' });
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
