import { deliverNotification } from '../../src/operations/notifications/notify.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { webhooks } from '../../src/runtime/aws/notifications.js';
import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, webhooks };

/** The notify target: a notification (at once, or a reminder) delivered to the webhooks that want it. */
export const handler = scheduledHandler('notify', providers, (input, deps, actor) => deliverNotification(deps, actor, input));
