import { EcsWorkbenchCompute } from '../../adapters/aws/ecs-workbenches.js';
import { once } from '../../once.js';
import { catalog, managedBy } from './settings.js';
import { scheduler } from './clusters.js';

/** ECS tasks (and dedicated EC2 instances) of the catalog's `workbenches.ecs` section; clients load on first use. */
export const workbenchCompute = once(async () => new EcsWorkbenchCompute((await catalog()).workbenches, managedBy()));

export const workbenchProviders = { scheduler, workbenchCompute };
