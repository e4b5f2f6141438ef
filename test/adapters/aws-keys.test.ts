import { afterAll, beforeAll, beforeEach, describe, it } from '@jest/globals';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { SecretsManagerKeyVault } from '../../src/adapters/aws/secret-key-vault.js';
import { TablePublicKeys } from '../../src/adapters/aws/table-public-keys.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { rotateSigningKeys } from '../../src/operations/rotate-keys.js';
import { parseKeySet } from '../../src/tokens/keys.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';

describe('signing keys in AWS: Secrets Manager for private keys, the table for the public JWKS', () => {
  const secrets = mockClient(SecretsManagerClient);
  const clock = new ManualClock();
  let dynamo: LocalDynamo;
  let store: DynamoStore;
  let secretValue: string | undefined;

  beforeAll(async () => {
    ({ dynamo, store } = await startTestStore(clock));
  });
  afterAll(() => dynamo.close());
  beforeEach(() => {
    secrets.reset();
    secrets.on(GetSecretValueCommand).callsFake(() => {
      if (secretValue === undefined) throw new ResourceNotFoundException({ message: 'gone', $metadata: {} });
      return { SecretString: secretValue };
    });
    secrets.on(PutSecretValueCommand).callsFake((input: { SecretString: string }) => {
      secretValue = input.SecretString;
      return {};
    });
  });

  const vault = () => new SecretsManagerKeyVault(new SecretsManagerClient({ region: 'us-east-1' }), 'arn:aws:secretsmanager:us-east-1:1:secret:keys');

  it('creates the first key at deploy, writing the secret and publishing the public half', async () => {
    secretValue = '{"keys":[]}';
    const result = await rotateSigningKeys({}, { vault: vault(), publisher: new TablePublicKeys(store, clock), clock });
    expect(result.kids).toHaveLength(1);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:keys' });
    expect(secrets).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    expect(parseKeySet(secretValue).keys[0]?.private_jwk.d).toBeDefined();
    const published = await new TablePublicKeys(store, clock).jwks(false);
    expect(published.keys.map((k) => k.kid)).toEqual(result.kids);
    expect(published.keys[0]).not.toHaveProperty('d');
  });

  it('changes nothing on a second deploy, and rotates on demand keeping the previous key', async () => {
    const before = secretValue;
    await rotateSigningKeys({ action: 'ensure' }, { vault: vault(), publisher: new TablePublicKeys(store, clock), clock });
    expect(secretValue).toBe(before);
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
    const first = parseKeySet(before ?? '').keys[0]?.kid;
    const rotated = await rotateSigningKeys({ action: 'rotate' }, { vault: vault(), publisher: new TablePublicKeys(store, clock), clock });
    expect(rotated.kids).toHaveLength(2);
    expect(rotated.kids[1]).toBe(first);
  });

  it('treats a missing secret as no keys yet', async () => {
    secretValue = undefined;
    await expect(vault().read()).resolves.toBeUndefined();
  });

  it('answers 503 dependency_unavailable when Secrets Manager throttles a read or a write, and passes a refusal on unchanged', async () => {
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    secrets.on(GetSecretValueCommand).rejects(throttled());
    secrets.on(PutSecretValueCommand).rejects(throttled());
    await expect(vault().read()).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
    await expect(vault().write({ keys: [] })).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(vault().read()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('caches the published keys, and re-reads at most once per refresh gap for unknown kids', async () => {
    const keys = new TablePublicKeys(store, clock, 300_000, 30_000);
    const first = await keys.jwks(false);
    await store.put({ pk: 'keys', sk: 'jwks', jwks: { keys: [] } });
    expect(await keys.jwks(true)).toBe(first);
    clock.advance(31_000);
    expect((await keys.jwks(true)).keys).toEqual([]);
  });
});
