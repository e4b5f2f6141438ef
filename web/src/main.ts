import { ApiError, api, session } from './api.js';
import { type App, type Page, atLeast, button, errorView } from './app.js';
import { fill, h, safeLink, tickCountdowns } from './dom.js';
import { clustersPage } from './pages/clusters.js';
import { runsPage } from './pages/runs.js';
import { workbenchesPage } from './pages/workbenches.js';
import { workspacesPage } from './pages/workspaces.js';
import { tokensPage } from './pages/tokens.js';
import { adminPage } from './pages/admin.js';
import type { DeviceCode, Identity, Level, LoginResult } from './types.js';

/** The areas the console knows, each shown only if the API has its list route and the caller's level reaches it. */
const areas: { hash: string; label: string; list: string; page: (app: App) => Page }[] = [
  { hash: 'clusters', label: 'Clusters', list: '/v1/clusters', page: clustersPage },
  { hash: 'runs', label: 'Runs', list: '/v1/runs', page: runsPage },
  { hash: 'workbenches', label: 'Workbenches', list: '/v1/workbenches', page: workbenchesPage },
  { hash: 'workspaces', label: 'Workspaces', list: '/v1/workspaces', page: workspacesPage },
  { hash: 'tokens', label: 'API tokens', list: '/v1/tokens', page: tokensPage },
  { hash: 'admin', label: 'Admin', list: '/v1/admin/overview', page: adminPage },
];

const main = document.getElementById('main') as HTMLElement;
const tabs = document.getElementById('tabs') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const alerts = h('div', { class: 'alerts', role: 'alert' });
const status = h('p', { class: 'visually-hidden', role: 'status' });
document.body.append(status);

let refreshTimer: number | undefined;
let current: { page: Page; app: App } | undefined;

function fail(error: unknown): void {
  if (error instanceof ApiError && error.code === 'invalid_token') {
    session.clear();
    void start('Your session ended; log in again.');
    return;
  }
  fill(alerts, h('p', {}, errorView(error), ' ', button('Dismiss', () => fill(alerts))));
}

function say(message: string): void {
  status.textContent = message;
}

/** Reads the current page's list; again in 2 s while something is in progress. */
async function refresh(): Promise<void> {
  window.clearTimeout(refreshTimer);
  const shown = current;
  if (!shown) return;
  let busy = false;
  try {
    busy = await shown.page.load();
  } catch (error) {
    if (current === shown) fail(error);
  }
  if (busy && current === shown) refreshTimer = window.setTimeout(() => void refresh(), 2000);
}

/** The areas this API has (from its OpenAPI document), that the caller's level may list. */
async function availableAreas(level: Level) {
  const document = await api<{ paths: Record<string, { get?: { 'x-minimum-level'?: Level } }> }>('GET', '/v1/openapi.json');
  return areas.filter((area) => {
    const list = document.paths[area.list]?.get;
    return list !== undefined && atLeast(level, list['x-minimum-level'] ?? 'anonymous');
  });
}

async function showApp(): Promise<void> {
  let me: Identity;
  let shown: typeof areas;
  try {
    me = await api<Identity>('GET', '/v1/whoami');
    if (me.level === 'anonymous') throw new ApiError(401, 'invalid_token', 'Log in first.', null);
    shown = await availableAreas(me.level);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'invalid_token') {
      session.clear();
      return start('Your session ended; log in again.');
    }
    fill(main, alerts);
    return fail(error);
  }
  fill(who, h('span', {}, `${me.login ?? ''} · ${me.level.replace('_', ' ')}`), ' ', button('Log out', () => {
    // The API ends the session everywhere (POST /v1/logout); the page forgets it either way.
    void api('POST', '/v1/logout').catch(() => undefined).finally(() => {
      session.clear();
      void start('Logged out.');
    });
  }));
  const app: App = {
    me,
    // A request of this session that ends after a logout shows nothing on the login page.
    fail: (error) => {
      if (current?.app === app) fail(error);
    },
    say,
    refresh: () => void refresh(),
  };
  const route = () => {
    const wanted = location.hash.slice(1);
    // Another fragment (the skip link's #main) is not a tab: the page shown stays.
    if (current?.app === app && !shown.some((a) => a.hash === wanted)) return;
    const area = shown.find((a) => a.hash === wanted) ?? shown[0];
    fill(tabs, h('ul', {}, shown.map((a) => h('li', {}, h('a', { href: `#${a.hash}`, ...(a === area && { 'aria-current': 'page' }) }, a.label)))));
    fill(alerts);
    if (!area) {
      current = undefined;
      return fill(main, alerts, h('p', {}, 'Nothing here is open to your level.'));
    }
    const page = area.page(app);
    current = { page, app };
    document.title = `${page.title} · Provisioner`;
    fill(main, alerts, page.content);
    void refresh();
  };
  window.onhashchange = route;
  route();
  keepFocus();
}

/** A keyboard user whose focused control went with the old view (login, logout) goes on from the content, not from the top. */
function keepFocus(): void {
  if (!document.activeElement || document.activeElement === document.body) main.focus();
}

/** The login page: GitHub's device flow through the API, or a pasted GitHub token. */
async function start(message?: string): Promise<void> {
  window.clearTimeout(refreshTimer);
  current = undefined;
  // The old session's router goes too: Back after a logout must not show its pages again.
  window.onhashchange = null;
  if (session.token()) return showApp();
  fill(tabs);
  fill(who);
  document.title = 'Log in · Provisioner';
  const device = h('div', { class: 'device', 'aria-live': 'polite' });
  const deviceButton = button('Log in with GitHub', () => void deviceLogin(deviceButton, device));
  const paste = h(
    'form',
    {
      class: 'panel',
      'aria-labelledby': 'paste-title',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const input = paste.querySelector('input') as HTMLInputElement;
        void login(() => api<LoginResult>('POST', '/v1/login', { github_token: input.value.trim() }), paste.querySelector('button'));
      },
    },
    h('h2', { id: 'paste-title' }, 'Or paste a GitHub token'),
    h('p', {}, 'A personal access token with read:org; it is sent once to the API and not kept.'),
    h('span', { class: 'field' }, h('label', { for: 'github-token' }, 'GitHub token'), h('input', { id: 'github-token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' })),
    h('button', { type: 'submit' }, 'Log in with token'),
  );
  fill(
    main,
    h(
      'section',
      { class: 'login', 'aria-labelledby': 'page-title' },
      h('h1', { id: 'page-title' }, 'Log in'),
      message ? h('p', {}, message) : null,
      alerts,
      h('div', { class: 'panel' }, h('h2', {}, 'With your GitHub account'), deviceButton, device),
      paste,
    ),
  );
  fill(alerts);
  keepFocus();
}

async function login(exchange: () => Promise<LoginResult>, control: HTMLButtonElement | null): Promise<void> {
  if (control) control.disabled = true;
  try {
    session.save((await exchange()).token);
    await showApp();
  } catch (error) {
    fail(error);
  } finally {
    if (control) control.disabled = false;
  }
}

/** Answers after which the same device code may be polled again. */
const transient = new Set(['network_error', 'github_unavailable', 'rate_limited']);

/** GitHub's device flow, proxied by the API: show the code, then poll once per interval until GitHub says yes. */
async function deviceLogin(control: HTMLButtonElement, out: HTMLElement): Promise<void> {
  control.disabled = true;
  let code: DeviceCode;
  try {
    code = await api<DeviceCode>('POST', '/v1/login/device');
  } catch (error) {
    if (error instanceof ApiError && error.code === 'device_flow_not_configured') {
      control.remove();
      fill(out, h('p', {}, 'This API has no GitHub app for browser login; paste a GitHub token below.'));
      return;
    }
    control.disabled = false;
    return fail(error);
  }
  const codeText = h('output', { class: 'user-code', 'aria-label': 'Your code' }, code.user_code);
  fill(
    out,
    h('p', {}, 'Enter this code at ', safeLink(code.verification_uri), ':'),
    codeText,
    ' ',
    button('Copy code', () => void navigator.clipboard?.writeText(code.user_code).catch(() => undefined)),
    h('p', { class: 'muted' }, 'Waiting for GitHub…'),
  );
  let interval = Math.max(1, code.interval);
  const deadline = Date.now() + code.expires_in * 1000;
  while (Date.now() < deadline && out.isConnected) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    try {
      const result = await api<LoginResult>('POST', '/v1/login/device/token', { device_code: code.device_code });
      // Logged in another way meanwhile (a pasted token): this answer must not replace that session.
      if (!out.isConnected) return;
      session.save(result.token);
      return showApp();
    } catch (error) {
      if (!out.isConnected) return;
      if (error instanceof ApiError && error.code === 'authorization_pending') continue;
      if (error instanceof ApiError && error.code === 'slow_down') {
        interval = Math.max(interval + 1, Number(error.details?.interval) || interval + 5);
        continue;
      }
      // GitHub or the network failing for a moment: the code the user is entering stays good, so keep polling.
      if (error instanceof ApiError && transient.has(error.code)) continue;
      control.disabled = false;
      fill(out);
      return fail(error);
    }
  }
  control.disabled = false;
  fill(out, h('p', {}, 'The code expired; start again.'));
}

window.setInterval(tickCountdowns, 1000);
void start();
