import middy from '@middy/core';
import { matchRoute } from '../api/match.js';
import { ProvisionerError } from '../domain/errors.js';
import { errorResponses, requestScope } from './middleware.js';
import type { HttpEvent, HttpHandler, HttpResult } from './types.js';

/** The error for a request that no route takes: 405 when the path exists under another method. */
export function unroutedError(method: string, path: string): ProvisionerError {
  const match = matchRoute(method, path);
  if (match.kind === 'wrong_method') {
    const allow = match.allowed.join(', ');
    return new ProvisionerError('method_not_allowed', `${method} is not allowed on ${path}; use ${allow}.`, { allowed: match.allowed }, { allow });
  }
  return new ProvisionerError('not_found', `No route ${method} ${path}; GET /v1/openapi.json lists them all.`);
}

/** Answers API Gateway's `$default` route (and the local server's unmatched requests) in the API's error shape. */
export function fallbackHandler(): HttpHandler {
  return middy<HttpEvent, HttpResult>()
    .use(requestScope('fallback'))
    .use(errorResponses())
    .handler(async (event) => {
      throw unroutedError(event.requestContext.http.method, event.rawPath);
    }) as unknown as HttpHandler;
}
