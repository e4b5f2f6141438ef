
/**
 * Notifications: what a webhook is told, as pure rules. `expiring` comes before a workspace's expiry,
 * a scheduled cluster destroy or a workbench's auto-stop; `failed` when a deploy, a run or a
 * workbench start fails; `degraded` when a cluster loses nodes; `stuck` once per destroy the backend
 * keeps refusing past its deadline.
 */
export const notificationEvents = ['expiring', 'failed', 'degraded', 'stuck'] as const;
export type NotificationEvent = (typeof notificationEvents)[number];

export const notifiedKinds = ['cluster', 'run', 'workbench', 'workspace'] as const;
export type NotifiedKind = (typeof notifiedKinds)[number];

/** The fields of a webhook's JSON body (Slack shows `text`; everything else is for programs). */
export interface Notification {
  event: NotificationEvent;
  kind: NotifiedKind;
  id: string;
  /** One line a person reads. */
  text: string;
  name?: string;
  owner?: string;
  /** When the thing happens (the expiry, the destroy, the auto-stop) or happened. */
  at?: string;
  details?: Record<string, unknown>;
}

export interface Webhook {
  url: string;
  events: readonly NotificationEvent[];
}

/** Headers of a delivery: the HMAC of the exact body bytes, the event, and an id a receiver dedupes by. */
export const signatureHeader = 'x-provisioner-signature';
export const eventHeader = 'x-provisioner-event';
export const deliveryHeader = 'x-provisioner-delivery';

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why a webhook URL is refused (undefined: accepted): https only, or http to a loopback host. */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && loopbackHosts.has(url.hostname)) return undefined;
  return 'must be https (or http to a loopback host)';
}

/** The webhooks that asked for this event. */
export function webhooksFor(webhooks: readonly Webhook[], event: NotificationEvent): Webhook[] {
  return webhooks.filter((webhook) => webhook.events.includes(event));
}

/** Longest `text` or `details` string kept: a schedule's input is limited (EventBridge Scheduler: 8 KB), and a backend's error can be long. */
export const maxFieldLength = 1_000;

const cut = (text: string) => (text.length > maxFieldLength ? `${text.slice(0, maxFieldLength - 1)}…` : text);

/** The notification with its long strings cut, so that it always fits a schedule's input. */
export function bounded(notification: Notification): Notification {
  const details = notification.details && Object.fromEntries(Object.entries(notification.details).map(([key, value]) => [key, typeof value === 'string' ? cut(value) : value]));
  return { ...notification, text: cut(notification.text), ...(details && { details }) };
}

/** The exact body bytes sent (and signed). */
export function notificationBody(notification: Notification): string {
  const { text, event, kind, id, name, owner, at, details } = notification;
  return JSON.stringify({ text, event, kind, id, ...(name !== undefined && { name }), ...(owner !== undefined && { owner }), ...(at !== undefined && { at }), ...(details && { details }) });
}

/** How long before its time each reminder comes, per thing that vanishes (a workspace's last one is its `expiring_notice`). */
export const reminderOffsets = {
  workspace: [{ label: '24h', ms: 24 * 3_600_000 }],
  destroy: [{ label: '24h', ms: 24 * 3_600_000 }, { label: '1h', ms: 3_600_000 }],
  autoStop: [{ label: '15m', ms: 15 * 60_000 }],
} as const;

export interface Reminder {
  label: string;
  at: Date;
}

/** The reminders still ahead of `now` for something happening at `at`; one already past is not made. */
export function remindersBefore(at: Date, offsets: readonly { label: string; ms: number }[], now: Date): Reminder[] {
  return offsets.map((offset) => ({ label: offset.label, at: new Date(at.getTime() - offset.ms) })).filter((reminder) => reminder.at.getTime() > now.getTime());
}
