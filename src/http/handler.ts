import middy from '@middy/core';
import { type Operation, type RouteSpec, type Routes, routes } from '../api/routes.js';
import { dependencies, type Providers } from '../runtime/deps.js';
import { errorResponses, json, jsonBody, requestScope, stateOf, validateInput } from './middleware.js';
import type { HttpEvent, HttpHandler, HttpResult, InputOf, OperationFn } from './types.js';

/**
 * Builds the Lambda handler of one route: request id and logs, error mapping, JSON body, validation,
 * then the operation with its dependencies. The same handler serves Lambda and the local server.
 */
export function http<O extends Operation, D>(name: O, operation: OperationFn<Routes[O], D>, providers: Providers<D>): HttpHandler {
  return routeHandler(name, routes[name], operation, providers);
}

/** The same for any route spec: `http()` passes the route table's; tests pass their own. */
export function routeHandler<R extends RouteSpec, D>(name: string, spec: R, operation: OperationFn<R, D>, providers: Providers<D>): HttpHandler {
  const resolveDeps = dependencies(providers);
  return middy<HttpEvent, HttpResult>()
    .use(requestScope(name))
    .use(errorResponses())
    .use(jsonBody(spec))
    .use(validateInput(spec))
    .handler(async (event) => {
      const state = stateOf({ event });
      const deps = await resolveDeps();
      const reply = await operation(state.input as InputOf<R>, {
        deps,
        requestId: state.requestId,
        caller: state.caller,
        sourceIp: event.requestContext?.http?.sourceIp ?? 'unknown',
        log: state.log,
      });
      return json(reply.status, reply.body, reply.headers);
    }) as unknown as HttpHandler;
}
