import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyVault } from '../../ports.js';
import { type KeySet, parseKeySet } from '../../tokens/keys.js';

/** A key file that cannot be used as it is: start-up stops with this one line. */
export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

/** The local key vault: one JSON file readable by its owner only (0600), or memory for `--memory`. */
export class FileKeyVault implements KeyVault {
  private memory?: KeySet;

  /** `path` undefined keeps the keys in memory. */
  constructor(private readonly path: string | undefined) {}

  /**
   * The keys, or undefined when there is no key file yet. A key file others may read is made
   * private again (private keys must not stay readable); one that holds no key is refused rather
   * than silently replaced, since every token signed by the lost keys would die with it.
   */
  async read(): Promise<KeySet | undefined> {
    if (!this.path) return this.memory;
    let set: KeySet;
    try {
      if ((statSync(this.path).mode & 0o077) !== 0) chmodSync(this.path, 0o600);
      set = parseKeySet(readFileSync(this.path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KeyFileError(`${this.path} is not a valid key file: ${(error as Error).message}`, { cause: error });
    }
    if (set.keys.length === 0) throw new KeyFileError(`${this.path} holds no key; restore it, or remove it to start with a new key (tokens signed before will then be refused).`);
    return set;
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
