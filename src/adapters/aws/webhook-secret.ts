import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../domain/clock.js';
import { guarded } from './failures.js';

/** The webhook signing secret in Secrets Manager, read by the notify function only, kept for `cacheMs`. */
export class SecretsManagerWebhookSecret {
  private cached?: { value: Promise<string>; until: number };

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly clock: Clock,
    private readonly cacheMs = 600_000,
  ) {}

  secret(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.cached && now < this.cached.until) return this.cached.value;
    const value = guarded('Secrets Manager', () => this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }))).then(({ SecretString }) => {
      if (!SecretString) throw new Error('the webhook secret has no value');
      return SecretString;
    });
    this.cached = { value, until: now + this.cacheMs };
    // A failed read is not kept: the next delivery asks again.
    value.catch(() => (this.cached = undefined));
    return value;
  }
}
