import { api, enc } from '../api.js';
import { type App, type Page, act, confirmButton, keyedList } from '../app.js';
import { badge, facts, field, fill, h, safeLink, when } from '../dom.js';
import type { Cluster, Page as ListPage, Run } from '../types.js';

const inProgress = new Set(['queued', 'running']);

export function runsPage(app: App): Page {
  const list = h('div', { class: 'cards' });
  const clusters = h('select', { id: 'run-cluster', required: true });
  const kind = h('select', { id: 'run-kind' }, h('option', { value: 'tests' }, 'Test'), h('option', { value: 'releases' }, 'Release'));
  const form = h(
    'form',
    {
      class: 'inline panel',
      'aria-label': 'Start a run',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const version = form.querySelector<HTMLInputElement>('input[name=version]')?.value.trim() ?? '';
        void act(app, form.querySelector('button'), () => api('POST', `/v1/clusters/${enc(clusters.value)}/${kind.value}`, { version }), 'Run started.');
      },
    },
    h('span', { class: 'field' }, h('label', { for: 'run-kind' }, 'Kind'), kind),
    h('span', { class: 'field' }, h('label', { for: 'run-cluster' }, 'Cluster'), clusters),
    field('Git ref', { name: 'version', type: 'text', required: true, placeholder: 'main' }),
    h('button', { type: 'submit' }, 'Start run'),
  );
  const content = h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, 'Runs'), form, h('h2', {}, 'Newest first'), list);
  return {
    title: 'Runs',
    content,
    async load() {
      const [runs, known] = await Promise.all([api<ListPage<Run>>('GET', '/v1/runs?limit=25'), api<ListPage<Cluster>>('GET', '/v1/clusters?limit=100')]);
      const chosen = clusters.value;
      const names = known.items.map((c) => c.name);
      if (names.join() !== Array.from(clusters.options, (o) => o.value).join()) {
        fill(clusters, names.map((n) => h('option', { value: n }, n)));
        if (names.includes(chosen)) clusters.value = chosen;
      }
      // A fresh log link is signed on every read: only its presence changes the card.
      keyedList(list, runs.items, (r) => r.id, (r) => card(app, r), (r) => ({ ...r, log_url: r.log_url !== null }));
      if (runs.items.length === 0) fill(list, h('p', {}, 'No runs yet.'));
      return runs.items.some((r) => inProgress.has(r.status));
    },
  };
}

function card(app: App, run: Run): HTMLElement {
  const title = `${run.kind} of ${run.cluster} at ${run.version}`;
  return h(
    'article',
    { class: 'card', 'aria-label': title },
    h('h2', {}, title, ' ', badge(run.status)),
    facts([
      ['Run', run.id],
      ['Plan', run.plan],
      ['Started by', run.created_by],
      ['Created', when(run.created_at)],
      ['Finished', when(run.finished_at)],
      ['Failed step', run.failed_step],
      ['Reason', run.reason],
    ]),
    run.steps.length
      ? h(
          'table',
          {},
          h('caption', {}, 'Steps'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'), h('th', { scope: 'col' }, 'Result'), h('th', { scope: 'col' }, 'Seconds'), h('th', { scope: 'col' }, 'Exit code'))),
          h('tbody', {}, run.steps.map((s) => h('tr', {}, h('td', {}, s.name), h('td', {}, badge(s.status)), h('td', {}, s.seconds), h('td', {}, s.exit_code ?? '')))),
        )
      : null,
    h(
      'div',
      { class: 'actions' },
      run.log_url ? safeLink(run.log_url, 'Open the log') : null,
      inProgress.has(run.status) ? confirmButton('Cancel', 'Cancel this run?', `${run.id}-cancel`, (b) => void act(app, b, () => api('POST', `/v1/runs/${enc(run.id)}/cancel`), 'Run cancelled.')) : null,
    ),
  );
}
