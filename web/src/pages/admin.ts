import { api, enc } from '../api.js';
import { type App, type Page, act, button } from '../app.js';
import { badge, facts, field, fill, h, when } from '../dom.js';
import type { AdminOverview } from '../types.js';

/** Administrators: the overview (counts, stuck items with their way out, slots, due soon, failed runs). */
export function adminPage(app: App): Page {
  const counts = h('div', { class: 'cards' });
  const stuck = h('div', { class: 'cards' });
  const more = h('div', {});
  const content = h(
    'section',
    { 'aria-labelledby': 'page-title' },
    h('h1', { id: 'page-title' }, 'Admin'),
    h('h2', {}, 'Stuck'),
    stuck,
    h('h2', {}, 'By status'),
    counts,
    more,
  );
  return {
    title: 'Admin',
    content,
    async load() {
      const overview = await api<AdminOverview>('GET', '/v1/admin/overview');
      fill(counts, ...Object.entries(overview.areas).map(([area, byStatus]) => h('article', { class: 'card' }, h('h3', {}, area), facts(Object.entries(byStatus).map(([status, n]) => [status, String(n)])))));
      fill(stuck, ...(overview.stuck.length === 0 ? [h('p', {}, 'Nothing is stuck.')] : overview.stuck.map((item) => stuckCard(app, item))));
      fill(
        more,
        h('h2', {}, 'Deployment slots'),
        overview.slots.length === 0 ? h('p', {}, 'No slot is held.') : h('ul', {}, overview.slots.map((s) => h('li', {}, `${s.deployer}: ${s.clusters.join(', ')}`))),
        h('h2', {}, 'Due within the hour'),
        overview.due.length === 0 ? h('p', {}, 'Nothing.') : h('ul', {}, overview.due.map((d) => h('li', {}, `${d.kind} ${d.id}: ${d.action} `, when(d.at)))),
        h('h2', {}, 'Failed runs, last 24 h'),
        overview.failed_runs.length === 0 ? h('p', {}, 'None.') : h('ul', {}, overview.failed_runs.map((r) => h('li', {}, `${r.id} ${r.status}${r.cluster ? ` on ${r.cluster}` : ''}: ${r.reason ?? ''} `, when(r.ended_at)))),
      );
      return false;
    },
  };
}

function stuckCard(app: App, item: AdminOverview['stuck'][number]): HTMLElement {
  const clusterActions =
    item.kind === 'cluster'
      ? h(
          'form',
          { class: 'inline', 'aria-label': `Act on ${item.id}`, onsubmit: (event: Event) => event.preventDefault() },
          field('Reason (recorded)', { type: 'text', name: 'reason', required: true, maxlength: '500' }),
          ...(['release-slot', 'force-absent'] as const).map((action) =>
            button(action === 'release-slot' ? 'Release slot' : 'Force absent', (event) => {
              const form = (event.target as HTMLElement).closest('form') as HTMLFormElement;
              const reason = form.querySelector<HTMLInputElement>('[name=reason]')?.value.trim() ?? '';
              if (!form.reportValidity()) return;
              void act(app, event.target as HTMLButtonElement, () => api('POST', `/v1/admin/clusters/${enc(item.id)}/${action}`, { reason }), `${item.id}: ${action} done.`).then(() => app.refresh());
            }),
          ),
        )
      : null;
  return h(
    'article',
    { class: 'card' },
    h('h3', {}, `${item.kind} ${item.id} `, badge(item.status)),
    facts([
      ['Since', when(item.since)],
      ['Owner', item.owner ?? null],
      ['Reason', item.reason ?? null],
    ]),
    clusterActions,
  );
}
