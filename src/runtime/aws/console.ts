import { join } from 'node:path';
import { BundledConsoleFiles } from '../../adapters/aws/bundled-console-files.js';
import { once } from '../../once.js';

/** The name of the console's file set beside the bundle (lib/api.ts copies it there). */
export const consoleFileSet = 'console.json';

/** Read on the first request, then kept while the container is warm. */
export const consoleFiles = once(() => new BundledConsoleFiles(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), consoleFileSet)));
