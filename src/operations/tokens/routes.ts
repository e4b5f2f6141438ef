import type { Routes } from '../../api/routes.js';
import type { AuthDeps } from '../../deps.js';
import { ProvisionerError } from '../../domain/errors.js';
import { noContent, ok } from '../../http/reply.js';
import type { OperationFn } from '../../http/types.js';

/** The API-token routes (issue 23): HTTP in, a use case, HTTP out. */

export const createRoute: OperationFn<Routes['token-create'], AuthDeps> = async () => {
  throw new ProvisionerError('person_required', 'Not implemented yet.');
};

export const listRoute: OperationFn<Routes['token-list'], AuthDeps> = async () => ok({ items: [] });

export const revokeRoute: OperationFn<Routes['token-revoke'], AuthDeps> = async () => noContent();

export const logoutRoute: OperationFn<Routes['logout'], AuthDeps> = async () => noContent();
