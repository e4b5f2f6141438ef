import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyVault, KeyFileError } from '../../src/adapters/local/file-key-vault.js';
import { generateSigningKey } from '../../src/tokens/keys.js';

describe('the local key file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'keys-'));

  it('makes a key file that others could read private again', async () => {
    const path = join(dir(), 'keys.json');
    await new FileKeyVault(path).write({ keys: [await generateSigningKey(new Date())] });
    chmodSync(path, 0o644);

    const keys = await new FileKeyVault(path).read();

    expect(keys?.keys).toHaveLength(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file with no key instead of minting a new one', async () => {
    const path = join(dir(), 'keys.json');
    writeFileSync(path, JSON.stringify({ keys: [] }), { mode: 0o600 });
    await expect(new FileKeyVault(path).read()).rejects.toBeInstanceOf(KeyFileError);
  });
});

describe('npm start with a bad setting', () => {
  it('stops with one line naming the missing catalog, not a stack', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'local/main.ts', '--memory'], {
      env: { ...process.env, PORT: '0', PROVISIONER_CATALOG: '/nonexistent/catalog.json' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/NodeVersionSupportWarning|a\.co\/|upgrade to node|trace-warnings|versions published|will require node|receiving updates|More information/.test(line));
    expect(lines).toEqual([expect.stringContaining('/nonexistent/catalog.json')]);
  });
});
