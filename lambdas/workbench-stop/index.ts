import type { Context } from 'aws-lambda';
import { http } from '../../src/http/handler.js';
import type { HttpEvent } from '../../src/http/types.js';
import { stopRoute } from '../../src/operations/workbenches/routes.js';
import { runAutoStop } from '../../src/operations/workbenches/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { workbenchProviders } from '../../src/runtime/aws/workbenches.js';
import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...workbenchProviders };

const fromApi = http('workbench-stop', stopRoute, providers);
const fromSchedule = scheduledHandler('workbench-auto-stop', providers, runAutoStop);

/** A stop from the API (an API Gateway event) or the auto-stop at max_runtime (`{workbench, stop_id}`). */
export const handler = (event: HttpEvent | unknown, context: Context) =>
  typeof event === 'object' && event !== null && 'requestContext' in event ? fromApi(event as HttpEvent, context) : fromSchedule(event, context);
