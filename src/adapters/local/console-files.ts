import type { ConsoleFiles } from '../../ports.js';

/**
 * The console built from `web/` by esbuild on first request — the same build, and so the same bytes,
 * that CDK ships beside the console's functions. A failed build is tried again on the next request.
 */
export class BuiltConsoleFiles implements ConsoleFiles {
  private built?: Promise<ReadonlyMap<string, string>>;

  files(): Promise<ReadonlyMap<string, string>> {
    this.built ??= import('../../../web/build.js')
      .then((build) => build.buildConsole())
      .catch((error: unknown) => {
        this.built = undefined;
        throw error;
      });
    return this.built;
  }
}
