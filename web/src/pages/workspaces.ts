import { api, enc } from '../api.js';
import { type App, type Page, act, withProgress, confirmButton, keyedList } from '../app.js';
import { badge, facts, field, fill, h, safeLink, timeWithCountdown, when } from '../dom.js';
import type { Page as ListPage, Workspace } from '../types.js';

const inProgress = new Set(['creating', 'deleting']);

export function workspacesPage(app: App): Page {
  const list = h('div', { class: 'cards' });
  const form = h(
    'form',
    {
      class: 'inline panel',
      'aria-label': 'Create a workspace',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = (name: string) => form.querySelector<HTMLInputElement>(`[name=${name}]`)?.value.trim() ?? '';
        const body = { ...(value('name') && { name: value('name') }), ...(value('expiry') && { expiry: value('expiry') }) };
        void act(app, form.querySelector('button'), () => api('POST', '/v1/workspaces', body), 'Workspace is being created.');
      },
    },
    field('Name (optional)', { name: 'name', type: 'text', maxlength: '63', placeholder: 'my-workspace' }),
    field('Expires in (optional)', { name: 'expiry', type: 'text', placeholder: '36h' }),
    h('button', { type: 'submit' }, 'Create workspace'),
  );
  const content = h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, 'Workspaces'), form, h('h2', {}, 'Yours'), list);
  return {
    title: 'Workspaces',
    content,
    async load() {
      const page = await api<ListPage<Workspace>>('GET', '/v1/workspaces?limit=100');
      const items = await withProgress(page.items, inProgress, '/v1/workspaces');
      keyedList(list, items, (w) => w.id, (w) => card(app, w), (w) => ({ ...w, expires_in: null }));
      if (items.length === 0) fill(list, h('p', {}, 'No workspaces yet.'));
      return items.some((w) => inProgress.has(w.status));
    },
  };
}

function card(app: App, workspace: Workspace): HTMLElement {
  const path = `/v1/workspaces/${enc(workspace.id)}`;
  const key = workspace.id;
  const live = workspace.status === 'ready' || workspace.status === 'creating';
  const extend = h(
    'form',
    {
      class: 'inline',
      'aria-label': `Extend ${workspace.name}`,
      onsubmit: (event: Event) => {
        event.preventDefault();
        const expiry = extend.querySelector('input')?.value.trim() ?? '';
        void act(app, extend.querySelector('button'), () => api('PATCH', path, { expiry }), `${workspace.name} now expires later.`);
      },
    },
    field('New expiry (from now, or a time)', { type: 'text', required: true, placeholder: '3d', 'data-focus': `${key}-expiry` }),
    h('button', { type: 'submit', 'data-focus': `${key}-extend` }, 'Extend'),
  );
  const endpoints = Object.entries(workspace.endpoints);
  return h(
    'article',
    { class: 'card', 'aria-labelledby': `ws-${key}` },
    h('h2', { id: `ws-${key}` }, workspace.name, ' ', badge(workspace.status)),
    facts([
      ['Id', workspace.id],
      ['Owner', workspace.owner],
      ['Created', when(workspace.created_at)],
      ['Expires', timeWithCountdown(workspace.expires_at)],
      ['Versions', Object.entries(workspace.versions).map(([c, v]) => `${c} ${v}`).join(', ')],
      ['Connection', endpoints.length ? h('dl', { class: 'facts nested' }, endpoints.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, safeLink(value))))) : null],
      ['Reason', workspace.reason],
    ]),
    live
      ? h('div', { class: 'actions' }, extend, confirmButton('Delete', `Delete ${workspace.name} now?`, `${key}-delete`, (b) => void act(app, b, () => api('DELETE', path), `Deleting ${workspace.name}.`)))
      : null,
  );
}
