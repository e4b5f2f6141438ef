import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyVault } from '../../ports.js';
import { type KeySet, parseKeySet } from '../../tokens/keys.js';

/** The local key vault: one JSON file readable by its owner only (0600), or memory for `--memory`. */
export class FileKeyVault implements KeyVault {
  private memory?: KeySet;

  /** `path` undefined keeps the keys in memory. */
  constructor(private readonly path: string | undefined) {}

  async read(): Promise<KeySet | undefined> {
    if (!this.path) return this.memory;
    try {
      return parseKeySet(readFileSync(this.path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`${this.path} is not a valid key file: ${(error as Error).message}`, { cause: error });
    }
  }

  async write(keys: KeySet): Promise<void> {
    if (!this.path) {
      this.memory = keys;
      return;
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    // Write then rename: a reader never sees half a key file.
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(keys, null, 2), { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.path);
  }
}
