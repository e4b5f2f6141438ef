import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerWebhookSecret } from '../../adapters/aws/webhook-secret.js';
import { readEnv } from '../../config.js';
import { systemClock } from '../../domain/clock.js';
import { once } from '../../once.js';
import { webhookTiming } from '../../operations/notifications/notify.js';
import type { Webhooks } from '../../ports.js';
import * as z from '../../zod.js';
import { credentials } from './credentials.js';

/** The webhook secret the stack made (PROVISIONER_WEBHOOK_SECRET_ARN), readable by the notify function only. */
export const webhooks = once((): Webhooks => {
  const { PROVISIONER_WEBHOOK_SECRET_ARN } = readEnv({ PROVISIONER_WEBHOOK_SECRET_ARN: z.string().check(z.minLength(1)) });
  const vault = new SecretsManagerWebhookSecret(new SecretsManagerClient({ credentials }), PROVISIONER_WEBHOOK_SECRET_ARN, systemClock);
  return { secret: () => vault.secret(), ...webhookTiming };
});
