import { http } from '../../src/http/handler.js';
import { deploy } from '../../src/operations/cluster-routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';

export const handler = http('deploy', deploy, { ...authProviders, ...clusterProviders });
