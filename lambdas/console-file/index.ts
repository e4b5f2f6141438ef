import { http } from '../../src/http/handler.js';
import { consoleFile } from '../../src/operations/console.js';
import { consoleFiles } from '../../src/runtime/aws/console.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { consoleFiles };

export const handler = http('console-file', consoleFile, providers);
