import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyVault } from '../../ports.js';
import { type KeySet, parseKeySet } from '../../tokens/keys.js';
import { guarded } from './failures.js';

/** The private signing keys in one Secrets Manager secret, as the key-set JSON. */
export class SecretsManagerKeyVault implements KeyVault {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async read(): Promise<KeySet | undefined> {
    try {
      const { SecretString } = await guarded('Secrets Manager', () => this.client.send(new GetSecretValueCommand({ SecretId: this.secretId })));
      return SecretString ? parseKeySet(SecretString) : undefined;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async write(keys: KeySet): Promise<void> {
    await guarded('Secrets Manager', () => this.client.send(new PutSecretValueCommand({ SecretId: this.secretId, SecretString: JSON.stringify(keys) })));
  }
}
