import { http } from '../../src/http/handler.js';
import { listClusters } from '../../src/operations/clusters/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders };

export const handler = http('list-clusters', listClusters, providers);
