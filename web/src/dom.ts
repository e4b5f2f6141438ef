/**
 * The console's only way to make DOM: elements from a tag, attributes and children. Strings become
 * text nodes, so a value from the API is always shown as text, never parsed as HTML.
 */
export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | undefined | Handler>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's content. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A definition list of label → value, skipping empty values. */
export function facts(rows: [string, Child][]): HTMLDListElement {
  return h(
    'dl',
    { class: 'facts' },
    rows.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))),
  );
}

/** A labelled input: the label names it for screen readers and is clickable. */
let inputs = 0;
export function field(label: string, attrs: Attrs): HTMLElement {
  const id = `f${++inputs}`;
  return h('span', { class: 'field' }, h('label', { for: id }, label), h('input', { id, ...attrs }));
}

/** "in 4m 05s", "2h 03m ago": a countdown text for an ISO time, relative to now. */
export function countdown(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  const s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = d > 0 ? `${d}d ${hr}h` : hr > 0 ? `${hr}h ${pad(m)}m` : `${m}m ${pad(sec)}s`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A time with a live countdown beside it (updated by `tickCountdowns`). */
export function timeWithCountdown(iso: string | null): Child {
  if (!iso) return null;
  return h('span', {}, h('time', { datetime: iso }, new Date(iso).toLocaleString()), ' (', h('span', { 'data-countdown': iso }, countdown(iso)), ')');
}

export function tickCountdowns(): void {
  for (const element of document.querySelectorAll<HTMLElement>('[data-countdown]')) {
    element.textContent = countdown(element.dataset.countdown ?? '');
  }
}

export function when(iso: string | null): Child {
  return iso ? h('time', { datetime: iso }, new Date(iso).toLocaleString()) : null;
}

export function badge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status}` }, status);
}

/** A link to a URL from the API: only http(s) becomes a link (a `javascript:` URL stays text). */
export function safeLink(url: string, text = url): Child {
  return /^https?:\/\//i.test(url) ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text) : url;
}
