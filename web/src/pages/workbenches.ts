import { api, enc } from '../api.js';
import { type App, type Page, act, withProgress, button, confirmButton, keyedList } from '../app.js';
import { badge, facts, field, fill, h, safeLink, timeWithCountdown, when } from '../dom.js';
import type { Page as ListPage, Workbench } from '../types.js';

const inProgress = new Set(['provisioning', 'pending', 'stopping']);

export function workbenchesPage(app: App): Page {
  const list = h('div', { class: 'cards' });
  const form = h(
    'form',
    {
      class: 'inline panel',
      'aria-label': 'Create a workbench',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = (name: string) => form.querySelector<HTMLInputElement>(`[name=${name}]`)?.value.trim() ?? '';
        const body = { name: value('name'), cpu: Number(value('cpu')), memory: Number(value('memory')) };
        void act(app, form.querySelector('button'), () => api('POST', '/v1/workbenches', body), `Workbench ${body.name} is starting.`);
      },
    },
    field('Name', { name: 'name', type: 'text', required: true, maxlength: '64', placeholder: 'analysis' }),
    field('CPU units (1024 = 1 vCPU)', { name: 'cpu', type: 'number', required: true, min: '128', step: '128', value: '1024', inputmode: 'numeric' }),
    field('Memory (MiB)', { name: 'memory', type: 'number', required: true, min: '256', step: '256', value: '2048', inputmode: 'numeric' }),
    h('button', { type: 'submit' }, 'Create workbench'),
  );
  const content = h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, 'Workbenches'), form, h('h2', {}, 'Yours'), list);
  return {
    title: 'Workbenches',
    content,
    async load() {
      const page = await api<ListPage<Workbench>>('GET', '/v1/workbenches?limit=100');
      const items = await withProgress(page.items, inProgress, '/v1/workbenches');
      keyedList(list, items, (w) => w.id, (w) => card(app, w));
      if (items.length === 0) fill(list, h('p', {}, 'No workbenches yet.'));
      return items.some((w) => inProgress.has(w.status));
    },
  };
}

function card(app: App, workbench: Workbench): HTMLElement {
  const path = `/v1/workbenches/${enc(workbench.id)}`;
  const own = workbench.owner_login === app.me.login;
  const key = workbench.id;
  const startable = workbench.status === 'stopped' || workbench.status === 'failed';
  const stoppable = workbench.status === 'running' || workbench.status === 'pending' || workbench.status === 'provisioning';
  return h(
    'article',
    { class: 'card', 'aria-labelledby': `wb-${key}` },
    h('h2', { id: `wb-${key}` }, workbench.name, ' ', badge(workbench.status)),
    facts([
      ['Id', workbench.id],
      ['Owner', own ? `${workbench.owner_login} (you)` : `${workbench.owner_login} (shared with you)`],
      ['Size', `${workbench.cpu / 1024} vCPU, ${workbench.memory} MiB${workbench.gpu ? `, ${workbench.gpu} GPU` : ''}`],
      ['Capacity', workbench.capacity_provider],
      ['Endpoint', workbench.endpoint ? safeLink(workbench.endpoint) : null],
      ['Stops', timeWithCountdown(workbench.stops_at)],
      ['Shared with', workbench.shares.join(', ')],
      ['Created', when(workbench.created_at)],
      ['Reason', workbench.reason],
    ]),
    h(
      'div',
      { class: 'actions' },
      startable ? button('Start', (e) => void act(app, e.currentTarget as HTMLButtonElement, () => api('POST', `${path}/start`), `Starting ${workbench.name}.`), { 'data-focus': `${key}-start` }) : null,
      stoppable ? button('Stop', (e) => void act(app, e.currentTarget as HTMLButtonElement, () => api('POST', `${path}/stop`), `Stopping ${workbench.name}.`), { 'data-focus': `${key}-stop` }) : null,
      own ? confirmButton('Delete', `Delete ${workbench.name} and its data?`, `${key}-delete`, (b) => void act(app, b, () => api('DELETE', path), `${workbench.name} deleted.`)) : null,
    ),
  );
}
