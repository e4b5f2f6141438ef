import { once } from '../../once.js';
import * as z from '../../zod.js';
import { notificationEvents, webhookUrlProblem } from '../notifications.js';

/** Notifications' section: the webhooks told of events before things vanish or when they fail. */
export const notificationsSection = once(() => ({
  notifications: z._default(
    z.strictObject({
      webhooks: z._default(
        z.array(
          z.strictObject({
            /** https, or http to a loopback host (a local test receiver). */
            url: z.string().check(z.refine((url) => webhookUrlProblem(url) === undefined, 'must be an https URL, or http to a loopback host (127.0.0.1, ::1, localhost)')),
            events: z.array(z.enum(notificationEvents)).check(z.minLength(1)),
          }),
        ),
        [],
      ),
    }),
    { webhooks: [] },
  ),
}));
