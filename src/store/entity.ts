import type { Clock } from '../domain/clock.js';
import { ProvisionerError } from '../domain/errors.js';
import type { Page, Store, StoredItem } from '../ports.js';
import { once } from '../once.js';
import * as z from '../zod.js';
import { type EntityKind, entityKeys, statusIndexKey } from './keys.js';

/**
 * Versioned entities: the state machine of every area (clusters today; runs, workbenches and
 * workspaces next) stored the same way. Each change is ONE conditional write of the entity's head
 * item on (version, status), and that write carries the change's audit event, so a crash can never
 * leave a state without its event or an event without its state. The written item comes back from
 * the write (no read after it).
 */

/** One line of an entity's audit trail. */
export interface AuditEvent {
  version: number;
  time: string;
  actor: string;
  action: string;
  from: string;
  to: string;
  request_id: string;
  details?: Record<string, unknown>;
}

/** Who makes a change, as the trail records it. */
export interface Author {
  /** `github:<login>`, `actions:<repo>`, or `system`. */
  sub: string;
  requestId: string;
}

/** What the state of every entity has: an optimistic-lock version (0: never written) and a status. */
export interface Versioned {
  version: number;
  status: string;
}

export interface EntityType<S extends Versioned> {
  kind: EntityKind;
  /** The state of an entity never written. */
  initial(id: string): S;
  /** The schema of the head item's own fields; the parsed state is `{...fields, version}`. */
  fields: () => z.ZodMiniType<Omit<S, 'version'>>;
}

/** The change a request wants to make: new field values (undefined removes one) and what to record. */
export interface Change {
  set: Record<string, unknown>;
  action: string;
  author: Author;
  details?: Record<string, unknown>;
}

/** What an update step decided: a final answer, or a change and what follows it. */
export type Step<S, R> =
  | { done: R }
  | {
      /** The state the change was decided on (a step may have refreshed the one it was given). */
      from: S;
      change: Change;
      /** Side effects once the change is written; its result is the update's. */
      after: (written: S) => Promise<R>;
      /** Undoes what the step did before the write (e.g. a schedule made ahead), when another request won. */
      lost?: () => Promise<void>;
    };

/** The head keeps this many latest events; when it would hold more, the oldest chunk moves to an item of its own. */
const headEvents = 10;
const archiveChunk = 5;

const auditEvent = once(() =>
  z.object({
    version: z.number(),
    time: z.string(),
    actor: z.string(),
    action: z.string(),
    from: z.string(),
    to: z.string(),
    request_id: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
);
const eventList = once(() => z._default(z.array(auditEvent()), []));

/** The store of one entity type; `Entities.of(store, type, clock)` per area. */
export class Entities<S extends Versioned> {
  /** The head's events of each state this store returned, so a commit appends without reading again. */
  private readonly trails = new WeakMap<S, AuditEvent[]>();

  constructor(
    private readonly store: Store,
    private readonly type: EntityType<S>,
    private readonly clock: Clock,
  ) {}

  /** The current state (strongly consistent); version 0 when never written. */
  async load(id: string): Promise<S> {
    return this.fromItem(id, await this.store.get(entityKeys.head(this.type.kind, id)));
  }

  /**
   * One conditional write from `current` to `current + change.set`, with the audit event of the
   * change. Undefined when another request changed the entity first (re-load and decide again).
   */
  async commit(id: string, current: S, change: Change): Promise<S | undefined> {
    const time = this.clock.now().toISOString();
    const to = typeof change.set.status === 'string' ? change.set.status : current.status;
    const event: AuditEvent = {
      version: current.version + 1,
      time,
      actor: change.author.sub,
      action: change.action,
      from: current.status,
      to,
      request_id: change.author.requestId,
      ...(change.details && { details: change.details }),
    };
    let events = [...(this.trails.get(current) ?? []), event];
    if (events.length > headEvents) {
      // Archived before the head forgets them; idempotent, so a request that then loses the race harms nothing.
      const chunk = events.slice(0, archiveChunk);
      await this.store.createIfAbsent({ ...entityKeys.archive(this.type.kind, id, chunk[0]?.version ?? 0), events: chunk });
      events = events.slice(archiveChunk);
    }
    // The status index (gsi2) says since when the entity has its status: set only when the status changes.
    const entered = current.version === 0 || to !== current.status;
    const attributes = { ...change.set, events, updated_at: time, ...(entered && { gsi2pk: statusIndexKey(this.type.kind, to), gsi2sk: `${time}#${id}` }) };
    const key = entityKeys.head(this.type.kind, id);
    if (current.version === 0) {
      const item = { ...key, ...attributes };
      return (await this.store.createIfAbsent(item)) ? this.fromItem(id, { ...item, version: 1 }) : undefined;
    }
    const written = await this.store.transition(key, { version: current.version, status: current.status }, attributes);
    return written && this.fromItem(id, written);
  }

  /**
   * Runs `step` on the current state until its change wins the race: the step returns a final
   * answer, or the change to make (from the state it decided on) and what to do once it is written.
   * A lost race re-reads and decides again; a request that keeps losing gives up with a 503.
   */
  async update<R>(id: string, step: (state: S) => Promise<Step<S, R>>, loaded?: S): Promise<R> {
    let state = loaded ?? (await this.load(id));
    for (let attempt = 0; attempt < 8; attempt++) {
      const decision = await step(state);
      if ('done' in decision) return decision.done;
      const written = await this.commit(id, decision.from, decision.change);
      if (written) return decision.after(written);
      await decision.lost?.();
      state = await this.load(id);
    }
    throw new ProvisionerError('service_unavailable', `${this.type.kind} ${id} is being changed by many requests at once; retry shortly.`, undefined, { 'retry-after': '1' });
  }

  /**
   * A page of entities from a secondary-index list (heads carry `gsi1pk` = the list, `gsi1sk` = the
   * order within it, both set by their changes). Eventually consistent, as index reads are.
   */
  async list(partition: string, limit: number, nextToken?: string, newestFirst = true): Promise<Page<S>> {
    const page = await this.store.query({ index: 'gsi1', partition, limit, nextToken, newestFirst });
    const prefix = `${this.type.kind}#`;
    const items = page.items.filter((item) => item.pk.startsWith(prefix)).map((item) => this.fromItem(item.pk.slice(prefix.length), item));
    return { items, ...(page.nextToken && { nextToken: page.nextToken }) };
  }

  /** The audit trail, newest first, `limit` at a time: the head's events, then the archived chunks. */
  async trail(id: string, limit: number, nextToken?: string): Promise<Page<AuditEvent>> {
    const before = nextToken === undefined ? Infinity : decodeTrailCursor(nextToken);
    const head = await this.store.get(entityKeys.head(this.type.kind, id));
    const events = eventList().parse(head?.events).filter((e) => e.version < before);
    const oldestInHead = events[0]?.version ?? (Number.isFinite(before) ? before : 1);
    if (events.length < limit && oldestInHead > 1) {
      const chunks = Math.ceil((limit - events.length) / archiveChunk) + 1;
      const { items } = await this.store.query({ ...entityKeys.archivesBefore(this.type.kind, id, oldestInHead), limit: chunks, newestFirst: true });
      const seen = new Set(events.map((e) => e.version));
      for (const item of items) for (const e of eventList().parse(item.events)) if (e.version < Math.min(before, oldestInHead) && !seen.has(e.version)) events.push(e);
    }
    const page = events.sort((a, b) => b.version - a.version).slice(0, limit);
    const last = page[page.length - 1];
    // Versions are contiguous from 1, so anything older than the last one shown means another page.
    return { items: page, ...(last && last.version > 1 && { nextToken: encodeTrailCursor(last.version) }) };
  }

  private fromItem(id: string, item: StoredItem | undefined): S {
    if (!item) return this.type.initial(id);
    const parsed = this.type.fields().safeParse(item);
    if (!parsed.success) throw new Error(`stored ${this.type.kind} ${id} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const state = { ...parsed.data, version: item.version } as S;
    this.trails.set(state, eventList().parse(item.events));
    return state;
  }
}

/** A trail cursor is the version the next page starts below: nothing else to forge. */
function encodeTrailCursor(version: number): string {
  return Buffer.from(`v${version}`).toString('base64url');
}

function decodeTrailCursor(token: string): number {
  const match = /^v([1-9]\d{0,11})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw new ProvisionerError('invalid_next_token', 'next_token is not one this API issued for this list; start again without it.');
  return Number(match[1]);
}
