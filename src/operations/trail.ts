import type { Page } from '../ports.js';
import type { AuditEvent } from '../store/entity.js';

/** An entity's audit trail page as every area's events route answers it, `from`/`to` typed as the area's statuses. */
export function trailPage<S extends string>(page: Page<AuditEvent>) {
  const items = page.items.map((event) => ({
    time: event.time,
    actor: event.actor,
    action: event.action,
    from: event.from as S,
    to: event.to as S,
    request_id: event.request_id,
    ...(event.details !== undefined && { details: event.details }),
  }));
  return { items, ...(page.nextToken && { next_token: page.nextToken }) };
}
