import { api, enc } from '../api.js';
import { type App, type Page, act, button, confirmButton, keyedList } from '../app.js';
import { badge, facts, field, fill, h, when } from '../dom.js';
import type { ApiToken, ApiTokenCreated, Page as ListPage } from '../types.js';

/** The scopes a token may carry (the API refuses any other). */
const scopes = ['clusters:read', 'clusters:access', 'clusters:deploy', 'runs:start', 'runs:read', 'workbenches', 'workspaces', 'tokens'];

/** API tokens: create one (its secret shown once), list yours (administrators: anyone's), revoke. */
export function tokensPage(app: App): Page {
  const list = h('div', { class: 'cards' });
  // The secret lives only in this element until it is dismissed; never in storage.
  const secret = h('div', { 'aria-live': 'polite' });
  const owner = app.me.level === 'administrator' ? h('input', { type: 'text', name: 'owner', placeholder: 'a GitHub login', 'aria-label': 'Owner' }) : null;
  const form = h(
    'form',
    {
      class: 'panel',
      'aria-label': 'Create an API token',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = (name: string) => form.querySelector<HTMLInputElement>(`[name=${name}]`)?.value.trim() ?? '';
        const chosen = [...form.querySelectorAll<HTMLInputElement>('input[name=scope]:checked')].map((box) => box.value);
        const clusters = value('clusters').split(',').map((c) => c.trim()).filter(Boolean);
        const body = { name: value('name'), scopes: chosen, expires_in: value('expires_in') || '30d', ...(clusters.length > 0 && { clusters }) };
        void act(app, form.querySelector('button[type=submit]'), () => api<ApiTokenCreated>('POST', '/v1/tokens', body), 'Token created.').then((made) => {
          if (made) showSecret(made);
        });
      },
    },
    field('Name', { name: 'name', type: 'text', required: true, maxlength: '64', placeholder: 'nightly deploy' }),
    h('fieldset', {}, h('legend', {}, 'Scopes'), ...scopes.map((scope) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'scope', value: scope }), ` ${scope}`))),
    field('Expires in', { name: 'expires_in', type: 'text', placeholder: '30d' }),
    field('Only these clusters (comma-separated, optional)', { name: 'clusters', type: 'text', placeholder: 'acme-dev' }),
    h('button', { type: 'submit' }, 'Create token'),
  );
  function showSecret(made: ApiTokenCreated): void {
    const code = h('code', { class: 'secret' }, made.token);
    fill(
      secret,
      h(
        'div',
        { class: 'panel', role: 'region', 'aria-label': 'The new token' },
        h('p', {}, h('strong', {}, `${made.name}: copy it now, you will not see it again.`)),
        code,
        ' ',
        button('Copy', () => void navigator.clipboard?.writeText(made.token).then(() => app.say('Copied.'))),
        ' ',
        button('Done', () => fill(secret)),
      ),
    );
  }
  const filter = owner
    ? h('form', { class: 'inline', 'aria-label': 'Tokens of', onsubmit: (event: Event) => (event.preventDefault(), app.refresh()) }, owner, h('button', { type: 'submit' }, 'Show'))
    : null;
  const content = h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, 'API tokens'), form, secret, h('h2', {}, 'Tokens'), filter, list);
  return {
    title: 'API tokens',
    content,
    async load() {
      const who = owner?.value.trim();
      const page = await api<ListPage<ApiToken>>('GET', `/v1/tokens?limit=100${who ? `&owner=${enc(who)}` : ''}`);
      keyedList(list, page.items, (t) => t.id, (t) => card(app, t));
      if (page.items.length === 0) fill(list, h('p', {}, 'No tokens.'));
      return false;
    },
  };
}

function card(app: App, token: ApiToken): HTMLElement {
  const revoked = token.revoked_at !== undefined;
  const expired = Date.parse(token.expires_at) <= Date.now();
  return h(
    'article',
    { class: 'card', 'aria-labelledby': `tok-${token.id}` },
    h('h2', { id: `tok-${token.id}` }, token.name, ' ', badge(revoked ? 'revoked' : expired ? 'expired' : 'active')),
    facts([
      ['Id', token.id],
      ['Owner', token.owner],
      ['Scopes', token.scopes.join(', ')],
      ['Clusters', token.clusters?.join(', ') ?? 'any'],
      ['Created', when(token.created_at)],
      ['Expires', when(token.expires_at)],
      ['Last used', token.last_used_at ? [when(token.last_used_at), token.last_used_from ? ` from ${token.last_used_from}` : ''] : 'never'],
      ['Revoked', token.revoked_at ? when(token.revoked_at) : null],
    ]),
    revoked || expired ? null : h('div', { class: 'actions' }, confirmButton('Revoke', `Revoke ${token.name}? Jobs using it stop within a minute.`, `${token.id}-revoke`, (b) => void act(app, b, () => api('DELETE', `/v1/tokens/${enc(token.id)}`), `${token.name} revoked.`))),
  );
}
