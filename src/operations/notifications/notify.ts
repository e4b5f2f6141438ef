import { createHmac, randomUUID } from 'node:crypto';
import type { Actor } from '../../actor.js';
import type { Catalog } from '../../domain/catalog.js';
import type { Clock } from '../../domain/clock.js';
import {
  bounded,
  deliveryHeader,
  eventHeader,
  type Notification,
  notificationBody,
  remindersBefore,
  signatureHeader,
  type Webhook,
  webhooksFor,
} from '../../domain/notifications.js';
import type { Scheduler, Store, Webhooks } from '../../ports.js';
import type { TargetInput } from '../../scheduling/targets.js';
import { entityKeys, notificationKeys } from '../../store/keys.js';

/**
 * Notifications never block or fail the operation that saw the event: it saves its state first, then
 * asks the scheduler for a `notify` call at once (locally the in-process scheduler runs it at once);
 * a failure to ask is logged, never thrown. The `notify` function delivers, retries, and records what
 * it gave up on.
 */
export interface NotifyDeps {
  scheduler: Scheduler;
  catalog: Catalog;
  clock: Clock;
}

/** How long the table keeps a once-only mark (longer than any destroy stays stuck unnoticed) and an undelivered record (for an operator to look at). */
const markDays = 30;
const undeliveredDays = 90;
const expiresAfter = (now: Date, days: number) => Math.floor(now.getTime() / 1000) + days * 86_400;

const wanted = (catalog: Catalog, notification: Notification) => webhooksFor(catalog.notifications.webhooks, notification.event).length > 0;

/** Asks for a delivery of `notification` now; nothing when no webhook wants its event. */
export async function notify(deps: NotifyDeps, actor: Actor, notification: Notification): Promise<void> {
  if (!wanted(deps.catalog, notification)) return;
  const delivery = randomUUID();
  try {
    await deps.scheduler.schedule({ name: `notify-${delivery}`, at: deps.clock.now(), target: 'notify', payload: { delivery, notification: bounded(notification) } });
  } catch (error) {
    actor.log.warn('notification not scheduled', { event: notification.event, kind: notification.kind, id: notification.id, error: (error as Error).message });
  }
}

/**
 * Like `notify`, once per `occurrence` however often the event is seen (a destroy refused at every
 * re-armed deadline check is reported stuck once). A failed mark lets it through: at least once.
 */
export async function notifyOnce(deps: NotifyDeps & { store: Store }, actor: Actor, occurrence: string, notification: Notification): Promise<void> {
  if (!wanted(deps.catalog, notification)) return;
  const now = deps.clock.now();
  const first = await deps.store.createIfAbsent({ ...notificationKeys.once(occurrence), at: now.toISOString(), ttl: expiresAfter(now, markDays) }).catch(() => true);
  if (first) await notify(deps, actor, notification);
}

export interface ReminderPlan {
  /** The `expiring` notification (its text says how long is left). */
  notification: (left: string) => Notification;
  /** When the thing happens. */
  at: Date;
  offsets: readonly { label: string; ms: number }[];
  /** The item's field that must still hold `value` when the reminder fires. */
  field: string;
  value: string;
  /** Statuses in which the reminder still means something. */
  statuses: readonly string[];
}

const reminderName = (notification: Notification, value: string, label: string) => `remind-${notification.id.slice(0, 30)}-${value}-${label}`;

/** One-time reminders before `plan.at`, each still ahead of now; a failure to schedule one is logged. */
export async function scheduleReminders(deps: NotifyDeps, actor: Actor, plan: ReminderPlan): Promise<void> {
  const reminders = remindersBefore(plan.at, plan.offsets, deps.clock.now());
  await Promise.all(
    reminders.map(async (reminder) => {
      const notification = bounded(plan.notification(reminder.label));
      if (!wanted(deps.catalog, notification)) return;
      const name = reminderName(notification, plan.value, reminder.label);
      const guard = { field: plan.field, value: plan.value, statuses: [...plan.statuses] };
      try {
        // The schedule's name is the delivery id: every firing of it (at least once) is one delivery to dedupe.
        await deps.scheduler.schedule({ name, at: reminder.at, target: 'notify', payload: { delivery: name, notification, guard } });
      } catch (error) {
        actor.log.warn('reminder not scheduled', { kind: notification.kind, id: notification.id, error: (error as Error).message });
      }
    }),
  );
}

/** Removes the reminders of an item's `value` (a replaced one left behind does nothing: its guard fails). */
export async function cancelReminders(deps: Pick<NotifyDeps, 'scheduler'>, actor: Actor, notification: Pick<Notification, 'id'>, value: string | undefined, offsets: readonly { label: string }[]): Promise<void> {
  if (value === undefined) return;
  await Promise.all(
    offsets.map((offset) =>
      deps.scheduler.cancel(reminderName(notification as Notification, value, offset.label)).catch((error: unknown) => {
        actor.log.warn('reminder not cancelled; it will find its item moved on', { id: notification.id, error: (error as Error).message });
      }),
    ),
  );
}

export interface DeliverDeps {
  store: Store;
  clock: Clock;
  catalog: Catalog;
  webhooks: Webhooks;
}

export type Delivered = 'stale' | 'none' | { delivered: number; undelivered: number };

/**
 * The `notify` target: a reminder whose item moved on does nothing; otherwise each webhook that wants
 * the event gets the signed body, with retries; one that never takes it is recorded as
 * `notification-undelivered` (its host and last status, never the secret) and the call still ends well.
 */
export async function deliverNotification(deps: DeliverDeps, actor: Actor, input: TargetInput<'notify'>): Promise<Delivered> {
  const { notification, guard } = input;
  if (guard) {
    const head = await deps.store.get(entityKeys.head(notification.kind, notification.id));
    if (!head || head[guard.field] !== guard.value || !guard.statuses.includes(String(head.status))) {
      actor.log.info('reminder of an item that moved on; nothing to do', { kind: notification.kind, id: notification.id, delivery: input.delivery });
      return 'stale';
    }
  }
  const webhooks = webhooksFor(deps.catalog.notifications.webhooks, notification.event);
  if (webhooks.length === 0) return 'none';
  const body = notificationBody(notification);
  const signature = signBody(await deps.webhooks.secret(), body);
  const headers = { 'content-type': 'application/json', [signatureHeader]: signature, [eventHeader]: notification.event, [deliveryHeader]: input.delivery };
  const outcomes = await Promise.all(webhooks.map((webhook) => deliverTo(deps, actor, webhook, body, headers, input)));
  const delivered = outcomes.filter(Boolean).length;
  return { delivered, undelivered: outcomes.length - delivered };
}

async function deliverTo(deps: DeliverDeps, actor: Actor, webhook: Webhook, body: string, headers: Record<string, string>, input: TargetInput<'notify'>): Promise<boolean> {
  const host = new URL(webhook.url).host;
  let last = '';
  for (let attempt = 0; attempt <= deps.webhooks.retryDelaysMs.length; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, deps.webhooks.retryDelaysMs[attempt - 1]));
    try {
      const response = await fetch(webhook.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(deps.webhooks.attemptTimeoutMs) });
      await response.body?.cancel();
      if (response.ok) return true;
      last = `HTTP ${response.status}`;
      // A receiver that refuses the request itself (other than throttling) will refuse it again.
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) break;
    } catch (error) {
      last = (error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable';
    }
  }
  const at = deps.clock.now().toISOString();
  const details = { event: input.notification.event, kind: input.notification.kind, id: input.notification.id, host, last_status: last, delivery: input.delivery };
  actor.log.warn('notification undelivered', details);
  await deps.store
    .createIfAbsent({ ...notificationKeys.undeliveredItem(at, input.delivery, host), action: 'notification-undelivered', at, ...details, ttl: expiresAfter(deps.clock.now(), undeliveredDays) })
    .catch((error: unknown) => actor.log.error('undelivered notification not recorded', { host, error: (error as Error).message }));
  return false;
}

/** Three attempts, 1 s then 4 s apart, each cut at 5 s: at most 25 s, inside the notify function's timeout. */
export const webhookTiming = { retryDelaysMs: [1_000, 4_000], attemptTimeoutMs: 5_000 } as const;

/** `sha256=<hex HMAC-SHA256 of the body>` with the webhook secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}
