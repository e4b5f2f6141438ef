import { api, enc } from '../api.js';
import { type App, type Page, act, atLeast, button, confirmButton, errorView, keyedList } from '../app.js';
import { badge, facts, field, h, fill, safeLink, timeWithCountdown, when } from '../dom.js';
import type { Cluster, ClusterEvent, ClusterToken, Page as ListPage } from '../types.js';

const inProgress = new Set(['deploying', 'destroying']);

/** Administrators manage every cluster; members of a private cluster's organization (the only others who see it) manage it. */
function canManage(app: App, cluster: Cluster): boolean {
  return app.me.level === 'administrator' || (cluster.visibility === 'private' && atLeast(app.me.level, 'github_member'));
}

export function clustersPage(app: App): Page {
  const list = h('div', { class: 'cards', 'aria-live': 'off' });
  const content = h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, 'Clusters'), list);
  return {
    title: 'Clusters',
    content,
    async load() {
      const page = await api<ListPage<Cluster>>('GET', '/v1/clusters?limit=100');
      keyedList(list, page.items, (c) => c.name, (c) => card(app, c));
      if (page.items.length === 0) fill(list, h('p', {}, 'No clusters you may see.'));
      return page.items.some((c) => inProgress.has(c.status));
    },
  };
}

function card(app: App, cluster: Cluster): HTMLElement {
  const name = cluster.name;
  const path = `/v1/clusters/${enc(name)}`;
  const actions = h('div', { class: 'actions' });
  if (canManage(app, cluster)) {
    if (cluster.status === 'absent' || cluster.status === 'failed') {
      const nodes = field('Nodes', { type: 'number', min: '1', inputmode: 'numeric', placeholder: 'default', 'data-focus': `${name}-nodes` });
      const form = h(
        'form',
        {
          class: 'inline',
          'aria-label': `Deploy ${name}`,
          onsubmit: (event: Event) => {
            event.preventDefault();
            const count = form.querySelector('input')?.value;
            void act(app, form.querySelector('button'), () => api('POST', `${path}/deploy`, count ? { nodes: Number(count) } : {}), `Deploying ${name}.`);
          },
        },
        nodes,
        h('button', { type: 'submit', 'data-focus': `${name}-deploy` }, 'Deploy'),
      );
      actions.append(form);
    }
    if (cluster.status === 'running') {
      const form = h(
        'form',
        {
          class: 'inline',
          'aria-label': `Schedule the destroy of ${name}`,
          onsubmit: (event: Event) => {
            event.preventDefault();
            const value = form.querySelector('input')?.value.trim() ?? '';
            void act(app, form.querySelector('button'), () => api('PUT', `${path}/destroy-schedule`, { in: value }), `Destroy of ${name} scheduled.`);
          },
        },
        field('Destroy in', { type: 'text', required: true, placeholder: '2h', pattern: '[0-9]+[smhd]', title: 'a duration such as 90m, 2h or 1d', 'data-focus': `${name}-in` }),
        h('button', { type: 'submit', 'data-focus': `${name}-schedule` }, 'Schedule destroy'),
      );
      actions.append(form);
    }
    if (cluster.destroy_at) {
      actions.append(button('Cancel scheduled destroy', (e) => void act(app, e.currentTarget as HTMLButtonElement, () => api('DELETE', `${path}/destroy-schedule`), `Scheduled destroy of ${name} cancelled.`), { 'data-focus': `${name}-cancel` }));
    }
    if (cluster.status === 'running' || cluster.status === 'failed' || cluster.status === 'deploying') {
      actions.append(confirmButton('Destroy', `Destroy ${name} now?`, `${name}-destroy`, (b) => void act(app, b, () => api('POST', `${path}/destroy`), `Destroying ${name}.`)));
    }
  }
  const tokenOut = h('div', { class: 'token', 'aria-live': 'polite' });
  if (cluster.status === 'running') {
    actions.append(
      button('Copy cluster token', (e) => void copyToken(app, e.currentTarget as HTMLButtonElement, name, tokenOut), { 'data-focus': `${name}-token` }),
    );
  }
  const events = h('ol', { class: 'events' });
  const history = h(
    'details',
    {
      'data-panel': 'history',
      ontoggle: () => {
        if (history.open) void loadEvents(app, name, events);
      },
    },
    h('summary', {}, 'History'),
    events,
  );
  return h(
    'article',
    { class: 'card', 'aria-labelledby': `cluster-${name}` },
    h('h2', { id: `cluster-${name}` }, name, ' ', badge(cluster.status)),
    facts([
      ['Visibility', cluster.visibility],
      ['Nodes', cluster.status === 'absent' ? null : cluster.nodes],
      ['Version', cluster.version],
      ['Deployed by', cluster.deployed_by],
      ['Deadline', when(cluster.deadline)],
      ['Destroy at', timeWithCountdown(cluster.destroy_at)],
      ['Endpoints', cluster.endpoints.length ? h('ul', {}, cluster.endpoints.map((e) => h('li', {}, safeLink(e)))) : null],
      ['Reason', cluster.reason],
    ]),
    actions,
    tokenOut,
    history,
  );
}

async function copyToken(app: App, b: HTMLButtonElement, name: string, out: HTMLElement): Promise<void> {
  const issued = await act(app, b, () => api<ClusterToken>('POST', `/v1/clusters/${enc(name)}/access`));
  if (!issued) return;
  try {
    await navigator.clipboard.writeText(issued.token);
    fill(out, `Cluster token for ${name} copied; it expires ${new Date(issued.expires_at).toLocaleString()}.`);
  } catch {
    // No clipboard (permission refused): show it to copy by hand.
    const id = `token-${name}`;
    fill(out, h('label', { for: id }, `Cluster token for ${name} (copy it; expires ${new Date(issued.expires_at).toLocaleString()})`), h('input', { id, readonly: true, value: issued.token }));
  }
}

async function loadEvents(app: App, name: string, list: HTMLElement): Promise<void> {
  try {
    const page = await api<ListPage<ClusterEvent>>('GET', `/v1/clusters/${enc(name)}/events?limit=25`);
    fill(
      list,
      page.items.length === 0 ? h('li', {}, 'No events yet.') : page.items.map((e) => h('li', {}, when(e.time), ' ', h('strong', {}, e.action), ` ${e.from} → ${e.to} by `, h('span', { class: 'actor' }, e.actor))),
    );
  } catch (error) {
    fill(list, h('li', { role: 'alert' }, errorView(error)));
    app.fail(error);
  }
}
