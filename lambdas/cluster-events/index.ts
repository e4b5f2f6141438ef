import { http } from '../../src/http/handler.js';
import { clusterEvents } from '../../src/operations/cluster-routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';

export const handler = http('cluster-events', clusterEvents, authProviders);
