import middy from '@middy/core';
import { type Operation, type RouteSpec, type Routes, routes } from '../api/routes.js';
import type { AuthDeps, Providers } from '../deps.js';
import { authentication, minimumLevel, rateLimit, tokenScope } from './guards.js';
import { errorResponses, json, jsonBody, requestScope, resolveDependencies, stateOf, validateInput } from './middleware.js';
import type { HttpEvent, HttpHandler, HttpResult, InputOf, OperationFn } from './types.js';

/**
 * Builds the Lambda handler of one route. The middy chain is what runs, in order: request id and
 * logs, error mapping, JSON body, validation, dependencies, then — unless the route is public —
 * authentication, the route's minimum level, an API token's scope and the rate limit; then the operation. The same
 * handler serves Lambda and the local server.
 */
export function http<O extends Operation, D>(name: O, operation: OperationFn<Routes[O], D>, providers: ProvidersFor<Routes[O], D>): HttpHandler {
  return routeHandler(name, routes[name], operation, providers);
}

/** A route that authenticates needs the auth dependencies too; a public one only its own. */
type ProvidersFor<R extends RouteSpec, D> = Providers<D> & (R extends { public: true } ? unknown : Providers<AuthDeps>);

/** The same for any route spec: `http()` passes the route table's; tests pass their own. */
export function routeHandler<R extends RouteSpec, D>(name: string, spec: R, operation: OperationFn<R, D>, providers: ProvidersFor<R, D>): HttpHandler {
  const accessChecks = spec.public ? [] : [authentication(), minimumLevel(spec), tokenScope(name, spec), rateLimit(spec)];
  return middy<HttpEvent, HttpResult>()
    .use(requestScope(name))
    .use(errorResponses())
    .use(jsonBody(spec))
    .use(validateInput(spec))
    .use(resolveDependencies(providers as Providers<D>))
    .use(accessChecks)
    .handler(async (event) => {
      const { deps, requestId, caller, log, input } = stateOf({ event });
      const sourceIp = event.requestContext?.http?.sourceIp ?? 'unknown';
      const reply = await operation(input as InputOf<R>, { deps: deps as D, requestId, caller, sourceIp, log });
      // A console file is text with its own content type; everything else is JSON.
      if (spec.file) return { statusCode: reply.status, headers: reply.headers, body: String(reply.body) };
      return json(reply.status, reply.body, reply.headers);
    }) as unknown as HttpHandler;
}
