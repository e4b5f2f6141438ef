import { http } from '../../src/http/handler.js';
import { startTest } from '../../src/operations/runs/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';
import { keyRing } from '../../src/runtime/aws/keys.js';
import { runProviders } from '../../src/runtime/aws/runs.js';

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders, ...runProviders, keyRing };

export const handler = http('test-runner', startTest, providers);
