import { deliverNotification } from '../../src/operations/notifications/notify.js';
import { clock } from '../../src/runtime/aws/clock.js';
import { webhooks } from '../../src/runtime/aws/notifications.js';
import { catalog } from '../../src/runtime/aws/settings.js';
import { store } from '../../src/runtime/aws/store.js';
import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { clock, store, catalog, webhooks };

/** The notify target: a notification (at once, or a reminder) delivered to the webhooks that want it. */
export const handler = scheduledHandler('notify', providers, (input, deps, actor) => deliverNotification(deps, actor, input));
