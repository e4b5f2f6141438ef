import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerKeyVault } from '../../src/adapters/aws/secret-key-vault.js';
import { rotateSigningKeys } from '../../src/operations/rotate-keys.js';
import type { KeyPublisher } from '../../src/ports.js';
import { ManualClock } from '../support/dynamo.js';
import { type Moto, startMoto } from '../support/moto.js';

describe('the signing keys in Secrets Manager (against moto): the key vault read/write round trip', () => {
  let moto: Moto;
  let secrets: SecretsManagerClient;
  const clock = new ManualClock();
  const published: unknown[] = [];
  const publisher: KeyPublisher = { publish: async (jwks) => void published.push(jwks) };

  beforeAll(async () => {
    moto = await startMoto();
    secrets = new SecretsManagerClient(moto.clientConfig);
  });
  afterAll(async () => {
    secrets.destroy();
    await moto.stop();
  });

  it('starts from the secret the stack creates, writes the first key, reads it back (from another container too), and rotates keeping the previous key', async () => {
    // Arrange: the secret as lib/identity.ts creates it.
    const created = await secrets.send(new CreateSecretCommand({ Name: 'provisioner-signing-keys', SecretString: '{"keys":[]}' }));
    const vault = new SecretsManagerKeyVault(secrets, created.ARN ?? '');
    expect(await vault.read()).toEqual({ keys: [] });

    // Act: the deploy-time ensure, then an on-demand rotation.
    const first = await rotateSigningKeys({ action: 'ensure' }, { vault, publisher, clock });
    clock.advance(60_000);
    const rotated = await rotateSigningKeys({ action: 'rotate' }, { vault, publisher, clock });

    // Assert: another container's vault reads both keys, newest first, with their private halves.
    const read = await new SecretsManagerKeyVault(new SecretsManagerClient(moto.clientConfig), created.ARN ?? '').read();
    expect(read?.keys.map((k) => k.kid)).toEqual(rotated.kids);
    expect(rotated.kids).toEqual([expect.any(String), first.kids[0]]);
    expect(read?.keys.every((k) => typeof k.private_jwk.d === 'string')).toBe(true);
    // Each write is a new version of the same secret, AWSCURRENT the latest.
    const current = await secrets.send(new GetSecretValueCommand({ SecretId: 'provisioner-signing-keys' }));
    expect(JSON.parse(current.SecretString ?? '{}').keys).toHaveLength(2);
    expect(published).toHaveLength(2);
  });

  it('reads a secret that does not exist, or has no value yet, as no keys', async () => {
    expect(await new SecretsManagerKeyVault(secrets, 'no-such-secret').read()).toBeUndefined();
    await secrets.send(new CreateSecretCommand({ Name: 'provisioner-empty' }));
    expect(await new SecretsManagerKeyVault(secrets, 'provisioner-empty').read()).toBeUndefined();
  });
});
