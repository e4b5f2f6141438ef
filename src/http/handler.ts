import middy from '@middy/core';
import { type Operation, type RouteSpec, type Routes, routes } from '../api/routes.js';
import { requireLevel } from '../domain/policy.js';
import { type AuthDeps, dependencies, type Providers } from '../deps.js';
import { authenticate, enforceRateLimit } from './auth.js';
import { errorResponses, json, jsonBody, requestScope, stateOf, validateInput } from './middleware.js';
import type { HttpEvent, HttpHandler, HttpResult, InputOf, OperationFn } from './types.js';

/**
 * Builds the Lambda handler of one route: request id and logs, error mapping, JSON body, validation
 * (middy middlewares), then — needing the resolved dependencies — authentication, the route's
 * minimum level and the rate limit, and the operation. The same handler serves Lambda and the local
 * server.
 */
export function http<O extends Operation, D>(name: O, operation: OperationFn<Routes[O], D>, providers: ProvidersFor<Routes[O], D>): HttpHandler {
  return routeHandler(name, routes[name], operation, providers);
}

/** A route that authenticates needs the auth dependencies too; a public one only its own. */
type ProvidersFor<R extends RouteSpec, D> = Providers<D> & (R extends { public: true } ? unknown : Providers<AuthDeps>);

/** The same for any route spec: `http()` passes the route table's; tests pass their own. */
export function routeHandler<R extends RouteSpec, D>(name: string, spec: R, operation: OperationFn<R, D>, providers: ProvidersFor<R, D>): HttpHandler {
  const resolveDeps = dependencies(providers as Providers<D>);
  return middy<HttpEvent, HttpResult>()
    .use(requestScope(name))
    .use(errorResponses())
    .use(jsonBody(spec))
    .use(validateInput(spec))
    .handler(async (event) => {
      const state = stateOf({ event });
      const deps = await resolveDeps();
      const sourceIp = event.requestContext?.http?.sourceIp ?? 'unknown';
      let counted: Promise<void> | undefined;
      if (!spec.public) {
        const auth = deps as unknown as AuthDeps;
        state.caller = await authenticate(event, auth, state.log);
        requireLevel(state.caller, spec.auth);
        counted = enforceRateLimit(state.caller, sourceIp, auth, state.log);
        if (spec.rateLimit === 'parallel') counted.catch(() => undefined);
        else await counted;
      }
      const reply = await operation(state.input as InputOf<R>, { deps, requestId: state.requestId, caller: state.caller, sourceIp, log: state.log });
      await counted;
      return json(reply.status, reply.body, reply.headers);
    }) as unknown as HttpHandler;
}
