import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerWebhookSecret } from '../../src/adapters/aws/webhook-secret.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { ManualClock } from '../support/dynamo.js';
import { awsError } from '../support/fake-aws.js';
import { type Moto, startMoto } from '../support/moto.js';

describe('the webhook secret in Secrets Manager (against moto)', () => {
  let moto: Moto;
  let secrets: SecretsManagerClient;
  const clock = new ManualClock();

  beforeAll(async () => {
    moto = await startMoto();
    secrets = new SecretsManagerClient(moto.clientConfig);
  });
  afterAll(async () => {
    secrets.destroy();
    await moto.stop();
  });

  it('reads the generated secret once per 10 minutes, then again (a new value reaches warm containers)', async () => {
    // Arrange: a secret like the one lib/notifications.ts generates.
    const { ARN } = await secrets.send(new CreateSecretCommand({ Name: 'provisioner-webhook-secret', SecretString: 'a'.repeat(64) }));
    let reads = 0;
    const counted = new SecretsManagerClient(moto.clientConfig);
    counted.middlewareStack.add((next) => (args) => {
      reads++;
      return next(args);
    });
    const secret = new SecretsManagerWebhookSecret(counted, ARN ?? '', clock);

    // Act / Assert
    expect(await secret.secret()).toBe('a'.repeat(64));
    await secrets.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'b'.repeat(64) }));
    expect(await Promise.all([secret.secret(), secret.secret()])).toEqual(['a'.repeat(64), 'a'.repeat(64)]);
    expect(reads).toBe(1);
    clock.advance(600_000);
    expect(await secret.secret()).toBe('b'.repeat(64));
    expect(reads).toBe(2);
    counted.destroy();
  });

  it('answers a throttled read as 503 dependency_unavailable, and does not keep the failure', async () => {
    const { ARN } = await secrets.send(new CreateSecretCommand({ Name: 'provisioner-webhook-throttled', SecretString: 'c'.repeat(64) }));
    const flaky = new SecretsManagerClient(moto.clientConfig);
    let fail = true;
    flaky.middlewareStack.add((next) => async (args) => {
      if (fail) throw awsError('ThrottlingException', 400);
      return next(args);
    });
    const secret = new SecretsManagerWebhookSecret(flaky, ARN ?? '', clock);
    const refused = await secret.secret().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProvisionerError);
    expect((refused as ProvisionerError).code).toBe('dependency_unavailable');
    fail = false;
    expect(await secret.secret()).toBe('c'.repeat(64));
    flaky.destroy();
  });
});
