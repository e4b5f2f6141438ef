import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The local webhook secret: PROVISIONER_WEBHOOK_SECRET when set; otherwise one generated on first
 * use (256 bits, hex) and kept 0600 beside the local keys, so receivers can verify across restarts;
 * printed nowhere (an operator copies it from the file). `path` undefined (`--memory`) keeps it in memory.
 */
export function localWebhookSecret(configured: string | undefined, path: string | undefined): () => Promise<string> {
  let value = configured;
  return async () => {
    value ??= readOrCreate(path);
    return value;
  };
}

function readOrCreate(path: string | undefined): string {
  const generated = randomBytes(32).toString('hex');
  if (!path) return generated;
  try {
    chmodSync(path, 0o600);
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${generated}\n`, { mode: 0o600, flag: 'wx' });
  return generated;
}
