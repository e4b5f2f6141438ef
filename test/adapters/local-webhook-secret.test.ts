import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { localWebhookSecret } from '../../src/adapters/local/webhook-secret.js';

describe('the local webhook secret', () => {
  it('is PROVISIONER_WEBHOOK_SECRET when set, and then writes no file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'webhook-')), 'webhook-secret');
    expect(await localWebhookSecret('configured-secret-value', path)()).toBe('configured-secret-value');
    expect(() => statSync(path)).toThrow();
  });

  it('is otherwise generated once (256 bits), kept 0600 beside the keys and read again after a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'webhook-')), 'data', 'webhook-secret');
    const generated = await localWebhookSecret(undefined, path)();
    expect(generated).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(generated);
    expect(await localWebhookSecret(undefined, path)()).toBe(generated);
  });

  it('lives in memory only with --memory', async () => {
    const secret = localWebhookSecret(undefined, undefined);
    expect(await secret()).toBe(await secret());
  });
});
