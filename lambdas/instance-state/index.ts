import { instanceStateHandler } from '../../src/operations/clusters/instance-events.js';
import { clock } from '../../src/runtime/aws/clock.js';
import { machineOwners, scheduler } from '../../src/runtime/aws/clusters.js';
import { catalog } from '../../src/runtime/aws/settings.js';
import { store } from '../../src/runtime/aws/store.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { clock, store, catalog, machineOwners, scheduler };

/** Not a route: the EventBridge rule on EC2 instance state changes runs it (drift → degraded). */
export const handler = instanceStateHandler(providers);
