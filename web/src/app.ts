import { ApiError, api, enc } from './api.js';
import { type Child, h } from './dom.js';
import type { Identity, Level } from './types.js';

const levels: Level[] = ['anonymous', 'github_member', 'org_member', 'administrator'];

export const atLeast = (level: Level, required: Level): boolean => levels.indexOf(level) >= levels.indexOf(required);

/** What a page gets from the shell. */
export interface App {
  me: Identity;
  /** Shows an error from the API (message, code, request id) in the alert region. */
  fail(error: unknown): void;
  /** Says something politely (a screen reader reads it when idle). */
  say(message: string): void;
  /** Reloads the current page's list now. */
  refresh(): void;
}

/** A page of an area: builds its content once, then `load` (re)reads its list; true while something is in progress. */
export interface Page {
  title: string;
  content: HTMLElement;
  load(): Promise<boolean>;
}

export function errorView(error: unknown): Child[] {
  if (error instanceof ApiError) {
    return [
      h('strong', {}, error.message),
      ' ',
      h('span', { class: 'muted' }, `(${error.code}${error.status ? `, HTTP ${error.status}` : ''}${error.requestId ? `, request id ${error.requestId}` : ''})`),
    ];
  }
  return [h('strong', {}, error instanceof Error ? error.message : String(error))];
}

/**
 * Runs an action of a button: disabled while it runs, its error shown, the list reloaded after.
 * Returns the action's result (undefined when it failed).
 */
export async function act<T>(app: App, button: HTMLButtonElement | null, work: () => Promise<T>, done?: string): Promise<T | undefined> {
  if (button) button.disabled = true;
  try {
    const result = await work();
    if (done) app.say(done);
    return result;
  } catch (error) {
    app.fail(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
    app.refresh();
  }
}

export function button(label: string, onClick: (event: Event) => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  return h('button', { type: 'button', onclick: onClick, ...attrs }, label);
}

/**
 * A "do it" button that asks first, in place (no dialog): the button becomes "Yes, <label>" and
 * "Keep it"; focus moves to the confirmation.
 */
export function confirmButton(label: string, question: string, focusKey: string, onConfirm: (button: HTMLButtonElement) => void): HTMLElement {
  const wrap = h('span', { class: 'confirm' });
  const ask = button(label, () => {
    const yes = button(`Yes, ${label.toLowerCase()}`, () => onConfirm(yes), { class: 'danger', 'data-focus': `${focusKey}-yes` });
    const no = button('Keep it', () => {
      wrap.replaceChildren(ask);
      ask.focus();
    });
    wrap.replaceChildren(h('span', { role: 'group', 'aria-label': question }, h('span', {}, question), ' ', yes, ' ', no));
    yes.focus();
  }, { class: 'danger', 'data-focus': focusKey });
  wrap.append(ask);
  return wrap;
}

/**
 * Renders a list keyed by id, replacing only the items whose data changed, so a refresh keeps focus,
 * typed input and open panels of the others; focus inside a replaced item returns to the same control.
 */
export function keyedList<T>(list: HTMLElement, items: T[], key: (item: T) => string, render: (item: T) => HTMLElement, signatureOf: (item: T) => unknown = (item) => item): void {
  const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const focusKey = active?.dataset.focus;
  const old = new Map<string, HTMLElement>();
  for (const child of Array.from(list.children)) {
    if (child instanceof HTMLElement && child.dataset.key) old.set(child.dataset.key, child);
    else child.remove(); // an "empty list" note
  }
  const wanted = new Set(items.map(key));
  for (const [k, element] of old) if (!wanted.has(k)) element.remove();
  let previous: Element | null = null;
  for (const item of items) {
    const k = key(item);
    const signature = JSON.stringify(signatureOf(item));
    let element = old.get(k);
    if (!element || element.dataset.signature !== signature) {
      const fresh = render(item);
      fresh.dataset.key = k;
      fresh.dataset.signature = signature;
      if (element) {
        const opened = Array.from(element.querySelectorAll('details[open]')).map((d) => d.getAttribute('data-panel'));
        const hadFocus = active !== null && element.contains(active);
        element.replaceWith(fresh);
        for (const panel of opened) fresh.querySelector<HTMLDetailsElement>(`details[data-panel="${panel}"]`)?.setAttribute('open', '');
        if (hadFocus && focusKey) fresh.querySelector<HTMLElement>(`[data-focus="${focusKey}"]`)?.focus();
      }
      element = fresh;
    }
    const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expected !== element) list.insertBefore(element, expected);
    previous = element;
  }
}

/**
 * A list shows what is recorded; reading an item that is in progress asks the backend how it is
 * going. One gone meanwhile (404) leaves the list; one that cannot be read now stays as listed.
 */
export async function withProgress<T extends { id: string; status: string }>(items: T[], inProgress: Set<string>, path: string): Promise<T[]> {
  const read = await Promise.all(
    items.map((item): Promise<T | undefined> | T =>
      inProgress.has(item.status)
        ? api<T>('GET', `${path}/${enc(item.id)}`).catch((error: unknown) => (error instanceof ApiError && error.status === 404 ? undefined : item))
        : item,
    ),
  );
  return read.filter((item) => item !== undefined) as T[];
}
