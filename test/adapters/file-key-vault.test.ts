import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyVault, KeyFileError } from '../../src/adapters/local/file-key-vault.js';
import { generateSigningKey } from '../../src/tokens/keys.js';

const dir = () => mkdtempSync(join(tmpdir(), 'keys-'));

describe('the local key file', () => {

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
  /** What `npm start` printed on stderr, without the AWS SDK's Node version notice. */
  function start(args: string[], env: Record<string, string>) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], { env: { ...process.env, PORT: '0', ...env }, encoding: 'utf8', timeout: 60_000 });
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/NodeVersionSupportWarning|a\.co\/|upgrade to node|trace-warnings|versions published|will require node|receiving updates|More information/.test(line));
    return { status: result.status, lines };
  }

  it('stops with one line naming the missing catalog, not a stack', () => {
    expect(start(['--memory'], { PROVISIONER_CATALOG: '/nonexistent/catalog.json' })).toEqual({ status: 1, lines: [expect.stringContaining('/nonexistent/catalog.json')] });
  });

  it('stops with one line naming a corrupt store', () => {
    const data = dir();
    mkdirSync(join(data, 'dynamodb'));
    writeFileSync(join(data, 'dynamodb', 'CURRENT'), 'garbage\n');
    expect(start([], { PROVISIONER_DATA_DIR: data })).toEqual({ status: 1, lines: [expect.stringMatching(/dynamodb cannot be opened as the local store/)] });
  });
});
