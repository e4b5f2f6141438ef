import type { MiddlewareObj } from '@middy/core';
import { type RouteSpec, scopeChecked } from '../api/routes.js';
import type { AuthDeps } from '../deps.js';
import { requireScope } from '../domain/api-tokens.js';
import { ProvisionerError } from '../domain/errors.js';
import { anonymousCaller } from '../domain/levels.js';
import { requireLevel } from '../domain/policy.js';
import { authenticate, enforceRateLimit } from './auth.js';
import { stateOf } from './middleware.js';
import type { HttpEvent, HttpResult } from './types.js';

/**
 * The access checks of an authenticated route, as middlewares in the order they run: who the
 * bearer token names, whether that level may call the route, and the caller's rate limit.
 */
type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult>;

/**
 * The caller from the bearer token (anonymous without one; 401 for a bad one). A refused token
 * counts against its source's anonymous limit first, so forged tokens cannot skip rate limiting.
 */
export function authentication(): HttpMiddleware {
  return {
    before: async (request) => {
      const state = stateOf(request);
      const deps = state.deps as AuthDeps;
      try {
        state.caller = await authenticate(request.event, deps, state.log);
      } catch (error) {
        if (error instanceof ProvisionerError && error.code === 'invalid_token') await enforceRateLimit(anonymousCaller, sourceIpOf(request.event), deps, state.log);
        throw error;
      }
    },
  };
}

const sourceIpOf = (event: HttpEvent) => event.requestContext?.http?.sourceIp ?? 'unknown';

/** The route's lowest level: 401 asking an anonymous caller to log in, 403 for others. */
export function minimumLevel(spec: RouteSpec): HttpMiddleware {
  return { before: (request) => requireLevel(stateOf(request).caller, spec.auth) };
}

/**
 * Counts the request in the caller's window: first (429 before anything runs), or — for routes
 * without side effects (`rateLimit: 'parallel'`) — while the operation runs, refusing its answer
 * if over the limit.
 */
export function rateLimit(spec: RouteSpec): HttpMiddleware {
  const counting = new WeakMap<HttpEvent, Promise<void>>();
  return {
    before: async (request) => {
      const state = stateOf(request);
      const counted = enforceRateLimit(state.caller, sourceIpOf(request.event), state.deps as AuthDeps, state.log);
      if (spec.rateLimit !== 'parallel') return counted;
      counted.catch(() => undefined); // awaited in `after`; an operation that fails first must not leave it unhandled
      counting.set(request.event, counted);
    },
    after: async (request) => {
      await counting.get(request.event);
    },
  };
}

/** tokens: a session from an API token calls only the routes its scopes cover (403 `insufficient_scope`). */
export function tokenScope(operation: string, spec: RouteSpec): HttpMiddleware {
  return { before: (request) => (scopeChecked(operation, spec) ? requireScope(stateOf(request).caller, spec.scope, operation) : undefined) };
}
