import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerKeyVault } from '../../adapters/aws/secret-key-vault.js';
import { readEnv } from '../../config.js';
import { systemClock } from '../../domain/clock.js';
import { VaultKeys } from '../../tokens/key-service.js';
import * as z from '../../zod.js';
import { once } from '../../once.js';
import { credentials } from './credentials.js';

/** The secret holding the private keys; only the functions that sign (and rotate) may read it. */
export const keyVault = once(() => {
  const { PROVISIONER_KEYS_SECRET } = readEnv({ PROVISIONER_KEYS_SECRET: z.string().check(z.minLength(1)) });
  return new SecretsManagerKeyVault(new SecretsManagerClient({ credentials }), PROVISIONER_KEYS_SECRET);
});

/** Re-read every 10 minutes: a rotation reaches warm containers without a read per request. */
export const keyRing = once(() => new VaultKeys(keyVault(), systemClock, 600_000));
