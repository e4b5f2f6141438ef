import type { Context } from 'aws-lambda';
import { http } from '../../src/http/handler.js';
import { scheduledHandler } from '../../src/scheduling/scheduled-handler.js';
import type { HttpEvent } from '../../src/http/types.js';
import { destroy } from '../../src/operations/clusters/routes.js';
import { runScheduledDestroy } from '../../src/operations/clusters/scheduled.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders };

const fromApi = http('destroy', destroy, providers);
const fromSchedule = scheduledHandler('destroy', providers, runScheduledDestroy);

/** DESTROY from the API (an API Gateway event) or from a destroy schedule (`{cluster, schedule_id}`). */
export const handler = (event: HttpEvent | unknown, context: Context) =>
  typeof event === 'object' && event !== null && 'requestContext' in event ? fromApi(event as HttpEvent, context) : fromSchedule(event, context);
