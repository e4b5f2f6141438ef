import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSettings, readEnv } from '../../src/config.js';
import { startLocalRuntime } from '../../src/runtime/local.js';

describe('the local runtime', () => {
  it('keeps state in the data dir across a restart', async () => {
    const config = readEnv(localSettings(), { PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-')) });
    const first = await startLocalRuntime({ config });
    await first.deps.store.createIfAbsent({ pk: 'cluster#demo', sk: 'meta', status: 'running' });
    await first.close();

    const second = await startLocalRuntime({ config });
    expect(await second.deps.store.get({ pk: 'cluster#demo', sk: 'meta' })).toMatchObject({ status: 'running', version: 1 });
    await second.close();
  });

  it('forgets everything in memory mode', async () => {
    const config = readEnv(localSettings(), { PROVISIONER_MEMORY: '1' });
    const first = await startLocalRuntime({ config });
    await first.deps.store.createIfAbsent({ pk: 'cluster#demo', sk: 'meta' });
    await first.close();
    const second = await startLocalRuntime({ config });
    expect(await second.deps.store.get({ pk: 'cluster#demo', sk: 'meta' })).toBeUndefined();
    await second.close();
  });

  it('names the bad variable when configuration is invalid', () => {
    expect(() => readEnv(localSettings(), { PORT: 'eighty' })).toThrow(/PORT is invalid/);
    expect(() => readEnv(localSettings(), { PROVISIONER_MEMORY: 'maybe' })).toThrow(/PROVISIONER_MEMORY/);
  });
});

describe('npm start', () => {
  function run(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  }
  const noise = (line: string) => line.trim() !== '' && !/NodeVersionSupportWarning|versions published|node >=22|receiving updates|security updates|a\.co|trace-warnings|please upgrade/.test(line);

  it('says in one line that the port is busy', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const { code, stderr } = await run({ PORT: String(port), PROVISIONER_MEMORY: '1' });
    blocker.close();
    expect(code).toBe(1);
    expect(stderr.split('\n').filter(noise)).toEqual([`Port ${port} is already in use; stop what uses it or set PORT.`]);
  });

  it('refuses a bad setting by name', async () => {
    const { code, stderr } = await run({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT is invalid');
  });
});
