import { readFile } from 'node:fs/promises';
import type { ConsoleFiles } from '../../ports.js';

/** The console's files as the build wrote them beside the function's bundle (one JSON object: name → text). */
export class BundledConsoleFiles implements ConsoleFiles {
  private loaded?: Promise<ReadonlyMap<string, string>>;

  constructor(private readonly path: string) {}

  files(): Promise<ReadonlyMap<string, string>> {
    this.loaded ??= readFile(this.path, 'utf8').then((text) => new Map(Object.entries(JSON.parse(text) as Record<string, string>)));
    return this.loaded;
  }
}
