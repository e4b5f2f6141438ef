import { ConfigError } from '../src/config.js';

/** Ends a local command with one line on stderr, never a stack (a bad setting, a busy port, ...). */
export function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Runs a local command's main: a configuration error is its one line, anything else a bug with its stack. */
export function runCommand(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) fail(error.message);
    console.error(error);
    process.exit(1);
  });
}
