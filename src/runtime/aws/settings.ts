import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { identitySettings, readEnv } from '../../config.js';
import { readShippedCatalog } from '../../domain/catalog.js';
import * as z from '../../zod.js';
import { once } from '../../once.js';

/** Issuer and token lifetimes from the environment the stack sets. */
export const tokenSettings = once(() => {
  const env = readEnv({
    PROVISIONER_ISSUER: z.url(),
    PROVISIONER_USER_TOKEN_TTL: identitySettings().PROVISIONER_USER_TOKEN_TTL,
    PROVISIONER_CLUSTER_TOKEN_TTL: identitySettings().PROVISIONER_CLUSTER_TOKEN_TTL,
  });
  return { issuer: env.PROVISIONER_ISSUER, userTokenTtlSeconds: env.PROVISIONER_USER_TOKEN_TTL, clusterTokenTtlSeconds: env.PROVISIONER_CLUSTER_TOKEN_TTL };
});

/**
 * This stack's value of the `provisioner:managed` tag (its name): what the resources it launches
 * carry, and the only value its functions may act on or sweep.
 */
export const managedBy = once(() => readEnv({ PROVISIONER_MANAGED_TAG: z.string().check(z.minLength(1)) }).PROVISIONER_MANAGED_TAG);

/** The catalog ships inside every function's bundle as catalog.json, validated at synth (`shipCatalog`). */
export const catalog = once(() => {
  const path = join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'catalog.json');
  return readShippedCatalog(readFileSync(path, 'utf8'), path);
});
