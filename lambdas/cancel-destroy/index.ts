import { http } from '../../src/http/handler.js';
import { cancelDestroyRoute } from '../../src/operations/cluster-routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';

export const handler = http('cancel-destroy', cancelDestroyRoute, { ...authProviders, ...clusterProviders });
