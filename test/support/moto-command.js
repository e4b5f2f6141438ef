import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The path of `moto_server` on PATH, or undefined. Plain JavaScript, because jest.config.js reads
 * it too (to leave the moto suites out, saying so, where the tool is missing).
 */
export function motoCommand() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'moto_server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
