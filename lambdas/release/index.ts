import { http } from '../../src/http/handler.js';
import { startRelease } from '../../src/operations/runs/routes.js';
import { authProviders } from '../../src/runtime/aws/auth.js';
import { clusterProviders } from '../../src/runtime/aws/clusters.js';
import { runProviders } from '../../src/runtime/aws/runs.js';

/** A RELEASE signs no cluster JWT, so this function is not given the signing-key secret. */
const keyRing = () => ({ signingKey: () => Promise.reject(new Error('a release signs no cluster token')) });

/** What this function builds on first use (a test checks the stack's environment satisfies each). */
export const providers = { ...authProviders, ...clusterProviders, ...runProviders, keyRing };

export const handler = http('release', startRelease, providers);
