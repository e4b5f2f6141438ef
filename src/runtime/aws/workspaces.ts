import { EcsWorkspaces } from '../../adapters/aws/ecs-workspaces.js';
import { readEnv } from '../../config.js';
import { ProvisionerError } from '../../domain/errors.js';
import { once } from '../../once.js';
import type { WorkspaceBackend } from '../../ports.js';
import * as z from '../../zod.js';
import { catalog, managedBy } from './settings.js';

/** A backend that cannot run here: the catalog names one the AWS runtime does not have. */
const unavailable = (kind: string): WorkspaceBackend => {
  const refuse = () => Promise.reject(new ProvisionerError('backend_unavailable', `The ${kind} workspace backend does not run in AWS; the catalog's workspaces.backend must be ecs.`));
  return { create: refuse, status: refuse, delete: refuse };
};

/** The catalog's ECS backend in the stack's workspace cluster (PROVISIONER_WORKSPACE_CLUSTER). */
export const workspaceBackend = once((): WorkspaceBackend => {
  const { backend, template } = catalog().workspaces;
  if (backend.kind !== 'ecs') return unavailable(backend.kind);
  const { PROVISIONER_WORKSPACE_CLUSTER } = readEnv({ PROVISIONER_WORKSPACE_CLUSTER: z.string().check(z.minLength(1)) });
  return new EcsWorkspaces({ cluster: PROVISIONER_WORKSPACE_CLUSTER, backend, components: template.components, managedBy: managedBy() });
});

export const workspaceProviders = { workspaceBackend };
