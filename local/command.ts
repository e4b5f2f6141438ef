import { LocalStoreError } from '../src/adapters/local/dynalite.js';
import { KeyFileError } from '../src/adapters/local/file-key-vault.js';
import { ConfigError } from '../src/config.js';
import { CatalogError } from '../src/domain/catalog.js';

/** Ends a local command with one line on stderr, never a stack (a bad setting, a busy port, ...). */
export function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/**
 * Runs a local command's main: a bad setting, catalog, key file or store, or a missing file, is one line
 * naming it; anything else is a bug, with its stack.
 */
export function runCommand(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError || error instanceof CatalogError || error instanceof KeyFileError || error instanceof LocalStoreError) fail(error.message);
    const { code, path } = error as NodeJS.ErrnoException;
    if ((code === 'ENOENT' || code === 'EACCES') && path) fail(`${path}: ${code === 'ENOENT' ? 'no such file' : 'permission denied'}; check the setting that names it.`);
    console.error(error);
    process.exit(1);
  });
}
