import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import chromiumPackage from '@sparticuz/chromium';
import { type Browser, type BrowserContext, type Page, type Route, chromium } from 'playwright-core';
import { consoleHeaders } from '../../src/operations/console.js';
import { buildConsole } from '../../web/build.js';

/**
 * The console's own behaviour against a hostile or flaky API, in a real Chromium under the page's
 * real CSP (never bypassed here): the built files are served with the console's headers and every
 * API call is answered by the test, so each case is seconds, with no `npm start`.
 */
jest.setTimeout(60_000);

const origin = 'http://console.test';
const files = buildConsole();
const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const evil = '<img src=x onerror=window.__injected=1>';
/** Link values an API might hold that must never become a clickable link. */
const badUrls = ['javascript:window.__injected=1', ' JaVaScRiPt:window.__injected=1', 'data:text/html,<script>window.__injected=1</script>', '//evil.example/'];
const now = new Date().toISOString();

type Answer = { status: number; body?: unknown; delayMs?: number };
type Api = (method: string, path: string, token: string | undefined) => Answer | undefined;

const identity = { login: evil, level: 'administrator', orgs: ['acme'] };
const loginResult = { token: 'user-jwt', token_type: 'Bearer', expires_at: now, user: identity };
const error = (status: number, code: string) => ({ status, body: { error: { code, message: `${code} ${evil}` } } });

/** An API whose every value is hostile: markup in texts, script and data URLs where links go. */
const hostileApi: Api = (method, path, token) => {
  if (method === 'POST' && path === '/v1/login') return { status: 200, body: loginResult };
  if (path === '/v1/openapi.json') {
    const list = { get: { 'x-minimum-level': 'github_member' } };
    return { status: 200, body: { paths: { '/v1/clusters': list, '/v1/runs': list, '/v1/workbenches': list, '/v1/workspaces': list } } };
  }
  if (token !== 'user-jwt') return error(401, 'invalid_token');
  if (path === '/v1/whoami') return { status: 200, body: identity };
  if (path.startsWith('/v1/clusters?')) {
    const cluster = { name: 'acme-dev', visibility: 'private', status: 'running', nodes: 2, version: evil, deployed_by: evil, destroy_at: null, deadline: null, endpoints: [...badUrls, 'https://ok.example/'], reason: evil, updated_at: now };
    return { status: 200, body: { items: [cluster] } };
  }
  if (path.startsWith('/v1/clusters/acme-dev/events')) {
    return { status: 200, body: { items: [{ time: now, actor: evil, action: evil, from: 'absent', to: 'running', request_id: 'r' }] } };
  }
  if (path.startsWith('/v1/runs?')) {
    const steps = [{ name: evil, status: 'passed', seconds: 1 }];
    const run = { id: 'b9f5c6f2-64c4-4a7e-9a55-3d1f0c7c1d11', kind: 'test', cluster: 'acme-dev', version: evil, plan: evil, status: 'failed', created_by: evil, created_at: now, deadline: null, finished_at: now, steps, failed_step: evil, reason: evil, log_url: badUrls[0], updated_at: now };
    return { status: 200, body: { items: [run] } };
  }
  if (path.startsWith('/v1/workbenches?')) {
    const workbench = { id: 'wb-0123456789ab', name: evil, owner: evil, status: 'running', cpu: 1024, memory: 2048, gpu: 0, dedicated_instance: false, capacity_provider: evil, endpoint: badUrls[1], stops_at: null, shares: [evil], reason: evil, created_at: now, updated_at: now };
    return { status: 200, body: { items: [workbench] } };
  }
  if (path.startsWith('/v1/workspaces?')) {
    const endpoints = Object.fromEntries(badUrls.map((url, i) => [`${evil}${i}`, url]));
    const workspace = { id: 'ws-0123456789ab', name: evil, owner: evil, status: 'ready', created_at: now, expires_at: now, expires_in: 0, versions: { [evil]: evil }, endpoints, reason: evil, updated_at: now };
    return { status: 200, body: { items: [workspace] } };
  }
  return undefined;
};

let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: await chromiumPackage.executablePath(), args: chromiumPackage.args, headless: true });
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
});

/** A page of the console whose API is `api`; the test fails on any CSP violation it reports. */
async function open(api: Api): Promise<{ page: Page; calls: string[]; violations: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const calls: string[] = [];
  await context.route(`${origin}/**`, async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname === '/' || url.pathname.startsWith('/console/')) {
      const name = url.pathname === '/' ? 'index.html' : url.pathname.slice('/console/'.length);
      const body = files.get(name);
      if (body === undefined) return route.fulfill({ status: 404 });
      return route.fulfill({ status: 200, headers: { ...consoleHeaders, 'content-type': types[name.split('.').pop() ?? ''] ?? '' }, body });
    }
    const token = request.headers().authorization?.replace(/^Bearer /, '');
    calls.push(`${request.method()} ${url.pathname}${token ? ' +token' : ''}`);
    const answer = api(request.method(), `${url.pathname}${url.search}`, token) ?? { status: 404, body: { error: { code: 'not_found', message: 'no' } } };
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    return route.fulfill({ status: answer.status, headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' }, body: JSON.stringify(answer.body ?? {}) }).catch(() => undefined);
  });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Trusted Type/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(`${origin}/`);
  return { page, calls, violations };
}

async function pasteLogin(page: Page): Promise<void> {
  await page.getByLabel('GitHub token', { exact: true }).fill('gh-token');
  await page.getByRole('button', { name: 'Log in with token' }).click();
  await page.getByRole('heading', { level: 1, name: 'Clusters' }).waitFor();
}

/** Every link's href on the page: the tabs' fragments and http(s) URLs only. */
const hrefs = (page: Page): Promise<string[]> => page.locator('a[href]').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));

describe('the console against a hostile or flaky API, in Chromium under its own CSP', () => {
  it('shows every API value as text and only http(s) URLs as links, with Trusted Types enforced and no CSP violation', async () => {
    expect(consoleHeaders['content-security-policy']).toContain("require-trusted-types-for 'script'");
    const { page, violations } = await open(hostileApi);
    await pasteLogin(page);
    const card = page.getByRole('article').first();
    await card.getByText('History').click();
    await card.locator('.events li').filter({ hasText: evil }).first().waitFor();
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('cell', { name: evil }).waitFor();
    expect(await page.getByText(badUrls[0] ?? '').count()).toBe(1); // the log link, as text
    await page.getByRole('link', { name: 'Workbenches' }).click();
    await page.getByText(badUrls[1]?.trim() ?? '').waitFor();
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByText(`${evil}0`).waitFor();
    for (const tab of ['Clusters', 'Runs', 'Workbenches', 'Workspaces']) {
      await page.getByRole('link', { name: tab }).click();
      await page.getByRole('heading', { level: 1, name: tab }).waitFor();
      await page.getByRole('article').first().waitFor();
      for (const href of await hrefs(page)) expect(href).toMatch(/^(#[a-z]+|https:\/\/ok\.example\/)$/);
    }
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    // Trusted Types are on: a string can no longer become markup, whatever code would try.
    await expect(page.evaluate("document.body.insertAdjacentHTML('beforeend', '<b>x</b>')")).rejects.toThrow(/TrustedHTML/);
    expect(violations.filter((v) => !v.includes('TrustedHTML'))).toEqual([]);
  });

  it('logs out completely: no token kept, Back shows none of the session, a late error stays away, focus goes on from the content', async () => {
    let slow = false;
    const { page, calls } = await open((method, path, token) => (slow && path.startsWith('/v1/workspaces?') ? { ...error(500, 'internal'), delayMs: 1500 } : hostileApi(method, path, token)));
    await pasteLogin(page);
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
    slow = true;
    await page.getByRole('link', { name: 'Workspaces' }).click(); // its list answers (an error) only after the logout
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.evaluate('document.activeElement.id')).toBe('main');

    const before = calls.length;
    await page.goBack(); // #runs of the session that ended
    await page.waitForTimeout(1800);
    expect(await page.getByRole('heading', { level: 1 }).allInnerTexts()).toEqual(['Log in']);
    expect(await page.locator('main').innerText()).not.toContain('internal');
    expect(calls.slice(before).filter((call) => !call.startsWith('GET /v1/workspaces'))).toEqual([]);
  });

  it('keeps the shown area when the skip link is used, and moves focus to the content', async () => {
    const { page } = await open(hostileApi);
    await pasteLogin(page);
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    expect(await page.getByRole('heading', { level: 1 }).allInnerTexts()).toEqual(['Runs']);
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
  });

  it('keeps polling the device code through a moment of GitHub or network trouble, and shows a non-http verification link as text', async () => {
    const polls: Answer[] = [error(503, 'github_unavailable'), error(429, 'rate_limited'), error(428, 'authorization_pending'), { status: 200, body: loginResult }];
    const { page, calls } = await open((method, path, token) => {
      if (path === '/v1/login/device') return { status: 200, body: { device_code: 'dc', user_code: 'WDJB-MJHT', verification_uri: badUrls[0], interval: 1, expires_in: 60 } };
      if (path === '/v1/login/device/token') return polls.shift() ?? error(400, 'invalid_device_code');
      return hostileApi(method, path, token);
    });
    await page.getByRole('button', { name: 'Log in with GitHub' }).click();
    await page.getByText('WDJB-MJHT').waitFor();
    expect(await page.locator('.device a').count()).toBe(0);
    await page.getByRole('heading', { level: 1, name: 'Clusters' }).waitFor({ timeout: 15_000 });
    expect(calls.filter((call) => call === 'POST /v1/login/device/token')).toHaveLength(4);
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
  });
  it('lets a device answer that comes after a login by pasted token replace nothing', async () => {
    const { page } = await open((method, path, token) => {
      if (path === '/v1/login/device') return { status: 200, body: { device_code: 'dc', user_code: 'WDJB-MJHT', verification_uri: 'https://github.test/login/device', interval: 1, expires_in: 60 } };
      if (path === '/v1/login/device/token') return { status: 200, body: { ...loginResult, token: 'someone-elses-jwt' }, delayMs: 3000 };
      return hostileApi(method, path, token);
    });
    await page.getByRole('button', { name: 'Log in with GitHub' }).click();
    await page.getByRole('link', { name: 'https://github.test/login/device' }).waitFor();
    await page.waitForTimeout(1200); // the first poll is under way
    await pasteLogin(page);
    await page.waitForTimeout(3000); // the poll has answered
    expect(await page.evaluate("sessionStorage.getItem('provisioner.token')")).toBe('user-jwt');
  });
});
