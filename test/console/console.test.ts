import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import chromiumPackage from '@sparticuz/chromium';
import { decodeJwt } from 'jose';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

// A real browser against `npm start`: the machine may be busy.
jest.setTimeout(180_000);

const artifacts = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));
const axePath = createRequire(import.meta.url).resolve('axe-core');
/** A GitHub login only the fake allows: markup that would run if the console ever rendered API values as HTML. */
const evilLogin = '<img src=x onerror=window.__injected=1>';

const github = new FakeGitHub();
let api: ApiProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-gil', { login: 'gil' });
  github.users.set('gh-evil', { login: evilLogin, orgs: { acme: 'active' } });
  api = new ApiProcess(await freePort(), {
    PROVISIONER_MEMORY: '1',
    PROVISIONER_GITHUB_API_URL: github.url,
    PROVISIONER_GITHUB_URL: github.url,
    PROVISIONER_GITHUB_CLIENT_ID: 'console-app',
    PROVISIONER_CATALOG: writeCatalog(testCatalog),
  });
  [browser] = await Promise.all([
    chromium.launch({ executablePath: await chromiumPackage.executablePath(), args: chromiumPackage.args, headless: true }),
    api.start(),
  ]);
});

afterAll(async () => {
  try {
    const alice = await apiToken('gh-alice').catch(() => undefined);
    if (alice) await api.call('POST', '/v1/clusters/acme-dev/destroy', alice);
  } finally {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await api.stop();
    await github.stop();
  }
});

async function apiToken(githubToken: string): Promise<string> {
  return (await api.call('POST', '/v1/login', undefined, { github_token: githubToken })).body.token as string;
}

/**
 * A browser context per user. `bypassCSP` lets the test inject axe-core; it also takes away the
 * page's own CSP, so the injection case below proves text rendering, not the CSP.
 */
async function newPage(options: { width?: number; csp?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ bypassCSP: !options.csp, viewport: { width: options.width ?? 1100, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${api.url}/`);
  return page;
}

async function pasteLogin(page: Page, githubToken: string): Promise<void> {
  await page.getByLabel('GitHub token', { exact: true }).fill(githubToken);
  await page.getByRole('button', { name: 'Log in with token' }).click();
  await page.getByRole('heading', { level: 1, name: 'Clusters' }).waitFor();
}

/** The status badge in a card's heading, once it says `status`. */
const statusOf = (card: Locator, status: string): Locator => card.locator('h2 .badge').filter({ hasText: new RegExp(`^${status}$`) });

const clusterCard = (page: Page, name: string): Locator => page.getByRole('article', { name: new RegExp(`^${name}\\b`) });

/** axe-core on the page as it is: no serious or critical violation. */
async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: axePath });
  const violations = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.html).slice(0, 3) })))",
  )) as { impact: string }[];
  expect({ what, violations: violations.filter((v) => v.impact === 'serious' || v.impact === 'critical') }).toEqual({ what, violations: [] });
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

describe('the web console in a browser, against npm start', () => {
  it('is served with a strict CSP and security headers, and works under it', async () => {
    const page = await newPage({ csp: true });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.request.get(`${api.url}/`);
    const headers = response.headers();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-content-type-options']).toBe('nosniff');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /src="(\/console\/app-\w+\.js)"/.exec(html)?.[1] ?? '';
    const asset = await page.request.get(`${api.url}${script}`);
    expect(asset.headers()['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers()['cache-control']).toContain('immutable');
    expect(asset.headers()['content-security-policy']).toBeDefined();
    expect((await page.request.get(`${api.url}/console/app-NOPE.js`)).status()).toBe(404);

    await pasteLogin(page, 'gh-olga');

    expect(violations).toEqual([]);
  });

  it('logs in with the device flow, deploys acme-dev, copies its token, schedules and cancels a destroy, and destroys it', async () => {
    const page = await newPage();
    await expectAccessible(page, 'login');
    await screenshot(page, 'login');
    github.deviceError = 'authorization_pending';
    github.deviceToken = undefined;

    await page.getByRole('button', { name: 'Log in with GitHub' }).click();
    await expect(page.getByText('WDJB-MJHT').textContent()).resolves.toBe('WDJB-MJHT');
    github.deviceToken = 'gh-olga'; // the user enters the code at GitHub
    await page.getByRole('heading', { level: 1, name: 'Clusters' }).waitFor();
    expect(github.deviceRequests.at(-1)).toMatchObject({ client_id: 'console-app', device_code: 'device-1' });
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    expect(await page.context().cookies()).toEqual([]);

    // An org member manages the private cluster, not the public one.
    const demo = clusterCard(page, 'demo');
    const acme = clusterCard(page, 'acme-dev');
    await demo.waitFor();
    expect(await demo.getByRole('button', { name: 'Deploy' }).count()).toBe(0);

    await acme.getByLabel('Nodes').fill('2');
    await acme.getByRole('button', { name: 'Deploy' }).click();
    await statusOf(acme, 'running').waitFor({ timeout: 60_000 });
    await expect(acme.getByText(/^(github:)?olga$/).count()).resolves.toBe(1);
    await expectAccessible(page, 'clusters');
    await screenshot(page, 'clusters');

    await acme.getByRole('button', { name: 'Copy cluster token' }).click();
    await acme.getByText(/Cluster token for acme-dev copied/).waitFor();
    const token = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(decodeJwt(token)).toMatchObject({ aud: 'acme-dev', sub: 'github:olga' });

    await acme.getByLabel('Destroy in').fill('2h');
    await acme.getByRole('button', { name: 'Schedule destroy' }).click();
    await acme.getByText(/in (1h 59m|2h 00m)/).waitFor();
    await acme.getByRole('button', { name: 'Cancel scheduled destroy' }).click();
    await acme.getByRole('button', { name: 'Cancel scheduled destroy' }).waitFor({ state: 'detached' });
    expect(await acme.getByText('Destroy at').count()).toBe(0);

    await acme.getByText('History').click();
    await acme.getByRole('listitem').filter({ hasText: 'destroy_cancelled' }).or(acme.getByRole('listitem').filter({ hasText: 'cancel' })).first().waitFor();
    const history = await acme.locator('.events').innerText();
    expect(history).toMatch(/deploy/);
    expect(history).toContain('github:olga');

    await acme.getByRole('button', { name: 'Destroy', exact: true }).click();
    await acme.getByRole('button', { name: 'Yes, destroy' }).click();
    await statusOf(acme, 'absent').waitFor({ timeout: 60_000 });
    expect(await acme.getByRole('button', { name: 'Deploy' }).count()).toBe(1);
  });

  it('shows a plain GitHub member no private cluster and no areas above their level, at 400 px, by keyboard alone', async () => {
    const page = await newPage({ width: 400 });
    // Keyboard only: Tab to the token field, type, Enter.
    for (let i = 0; i < 12 && (await page.evaluate('document.activeElement && document.activeElement.id')) !== 'github-token'; i++) await page.keyboard.press('Tab');
    await page.keyboard.type('gh-gil');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Clusters' }).waitFor();
    await clusterCard(page, 'demo').waitFor();

    expect(await clusterCard(page, 'acme-dev').count()).toBe(0);
    expect(await page.getByRole('navigation').getByRole('link').allInnerTexts()).toEqual(['Clusters', 'Workbenches', 'API tokens']);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400);
    // Focus is visible: the focused control has an outline.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');
    await screenshot(page, 'clusters-400px');
  });

  it('starts a test run and reads its steps and log', async () => {
    const alice = await apiToken('gh-alice');
    await api.call('POST', '/v1/clusters/acme-dev/deploy', alice, {});
    await until('acme-dev running', () => api.call('GET', '/v1/clusters/acme-dev', alice), (r) => r.body.status === 'running', 60_000);
    const page = await newPage();
    await pasteLogin(page, 'gh-alice');
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();

    await page.getByLabel('Cluster').selectOption('acme-dev');
    await page.getByLabel('Git ref').fill('main');
    await page.getByRole('button', { name: 'Start run' }).click();
    const run = page.getByRole('article', { name: /^test of acme-dev at main/ });
    await statusOf(run, 'failed').waitFor({ timeout: 90_000 });

    expect(await run.getByRole('row').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/^clone\s+passed/), expect.stringMatching(/^known-failure\s+failed/)]));
    await expectAccessible(page, 'runs');
    await screenshot(page, 'runs');
    // The log opens in a tab of its own (a presigned link to another origin, which the page's CSP does not fetch).
    const link = run.getByRole('link', { name: 'Open the log' });
    expect([await link.getAttribute('target'), await link.getAttribute('rel')]).toEqual(['_blank', 'noopener noreferrer']);
    // This Chromium runs as one process and cannot open a popup: the test opens the link in a page of its own.
    const log = await page.context().newPage();
    await log.goto((await link.getAttribute('href')) ?? '');
    expect(await log.locator('body').innerText()).toMatch(/known-failure/);
    await api.call('POST', '/v1/clusters/acme-dev/destroy', alice);
  });

  it('creates, stops and starts a workbench', async () => {
    const page = await newPage();
    await pasteLogin(page, 'gh-olga');
    await page.getByRole('link', { name: 'Workbenches' }).click();

    await page.getByLabel('Name').fill('analysis');
    await page.getByLabel('CPU units (1024 = 1 vCPU)').fill('512');
    await page.getByLabel('Memory (MiB)').fill('1024');
    await page.getByRole('button', { name: 'Create workbench' }).click();
    const card = page.getByRole('article', { name: /^analysis\b/ });
    await statusOf(card, 'running').waitFor({ timeout: 60_000 });
    await expectAccessible(page, 'workbenches');
    await screenshot(page, 'workbenches');

    await card.getByRole('button', { name: 'Stop' }).click();
    await statusOf(card, 'stopped').waitFor({ timeout: 60_000 });
    await card.getByRole('button', { name: 'Start' }).click();
    await statusOf(card, 'running').waitFor({ timeout: 60_000 });
    expect(await card.getByRole('link').count()).toBe(1);
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Yes, delete' }).click();
    await card.waitFor({ state: 'detached' });
  });

  it('creates a workspace and extends it', async () => {
    const page = await newPage();
    await pasteLogin(page, 'gh-olga');
    await page.getByRole('link', { name: 'Workspaces' }).click();

    await page.getByLabel('Name (optional)').fill('olga-ws');
    await page.getByLabel('Expires in (optional)').fill('36h');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    const card = page.getByRole('article', { name: /^olga-ws\b/ });
    await statusOf(card, 'ready').waitFor({ timeout: 60_000 });
    await card.getByText(/in (1d 11h|1d 12h)/).waitFor();
    await expectAccessible(page, 'workspaces');
    await screenshot(page, 'workspaces');

    await card.getByLabel('New expiry (from now, or a time)').fill('3d');
    await card.getByRole('button', { name: 'Extend' }).click();
    await card.getByText(/in (2d 23h|3d 0h)/).waitFor();
  });

  it('shows values from the API as text, never as markup (a login, a cluster event, a workspace owner)', async () => {
    const evil = await apiToken('gh-evil');
    await api.call('POST', '/v1/clusters/acme-dev/deploy', evil, {});
    const created = await api.call('POST', '/v1/workspaces', evil, { name: 'evil-ws' });
    expect(created.status).toBe(202);
    const page = await newPage();
    await pasteLogin(page, 'gh-evil');
    const acme = clusterCard(page, 'acme-dev');
    await acme.getByText('History').click();
    await acme.locator('.events').getByText(`github:${evilLogin}`).first().waitFor();
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('article', { name: /^evil-ws\b/ }).getByText(evilLogin).waitFor();

    expect(await page.locator('main img, header img').count()).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    await expect(page.locator('#who').innerText()).resolves.toContain(evilLogin);
    await api.call('POST', '/v1/clusters/acme-dev/destroy', evil);
  });

  it('shows the API\'s error message and request id', async () => {
    const page = await newPage();
    await pasteLogin(page, 'gh-olga');
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByLabel('Expires in (optional)').fill('99d');
    await page.getByRole('button', { name: 'Create workspace' }).click();

    const alert = page.getByRole('alert').filter({ hasText: 'request id' });
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/\(invalid_request, HTTP 400, request id [0-9a-f-]{36}\)/);
  });
});

describe('API tokens and the admin page', () => {
  it('creates a token showing its secret once, which then exchanges; revokes it; the page passes axe', async () => {
    const page = await newPage();
    await pasteLogin(page, 'gh-olga');
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('Name', { exact: true }).fill('<b>nightly</b>');
    await page.getByRole('checkbox', { name: 'clusters:read' }).check();
    await page.getByLabel('Expires in').fill('1d');
    await page.getByRole('button', { name: 'Create token' }).click();

    const shown = page.getByRole('region', { name: 'The new token' });
    const secret = (await shown.locator('code').textContent()) ?? '';
    expect(secret).toMatch(/^prv_[A-Za-z0-9_-]{43}$/);
    expect(await shown.getByText('you will not see it again').count()).toBe(1);
    expect((await api.call('POST', '/v1/login', undefined, { api_token: secret })).status).toBe(200);
    const card = page.getByRole('article', { name: /nightly/ });
    await card.waitFor();
    // A name with markup is text, never HTML.
    expect(await card.locator('h2 b').count()).toBe(0);
    await expectAccessible(page, 'tokens page');

    await shown.getByRole('button', { name: 'Done' }).click();
    expect(await page.locator('code.secret').count()).toBe(0);
    await card.getByRole('button', { name: 'Revoke' }).click();
    await card.getByRole('button', { name: 'Yes, revoke' }).click();
    await until('the revoked token no longer exchanges', async () => (await api.call('POST', '/v1/login', undefined, { api_token: secret })).status, (status) => status === 401);
    await statusOf(page.getByRole('article', { name: /nightly/ }), 'revoked').waitFor();
  });

  it('shows the Admin tab only to administrators, with the overview', async () => {
    const member = await newPage();
    await pasteLogin(member, 'gh-olga');
    expect(await member.getByRole('link', { name: 'Admin' }).count()).toBe(0);

    const admin = await newPage();
    await pasteLogin(admin, 'gh-alice');
    await admin.getByRole('link', { name: 'Admin' }).click();
    await admin.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    await admin.getByText('Nothing is stuck.').waitFor();
    await admin.getByRole('heading', { name: 'clusters' }).waitFor();
    await expectAccessible(admin, 'admin page');
  });
});
