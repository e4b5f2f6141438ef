import type { MiddlewareObj, Request } from '@middy/core';
import { randomUUID } from 'node:crypto';
import type * as z from '../zod.js';
import type { RouteSpec } from '../api/routes.js';
import { dependencies, type Providers } from '../deps.js';
import { ProvisionerError } from '../domain/errors.js';
import { anonymousCaller, type Caller } from '../domain/levels.js';
import { type Log, requestLog } from '../log.js';
import { requestMetrics } from '../metrics.js';
import type { HttpEvent, HttpResult } from './types.js';

/** What the middlewares learn about a request, kept beside it for the handler. */
export interface RequestState {
  requestId: string;
  log: Log;
  caller: Caller;
  startedAt: number;
  body?: unknown;
  input?: { params: unknown; query: unknown; body: unknown };
  /** The operation's dependencies, resolved once per warm container. */
  deps?: unknown;
  /** The error code answered, for the metrics. */
  errorCode?: string;
}

type HttpRequest = Request<HttpEvent, HttpResult>;
type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult>;

const states = new WeakMap<HttpEvent, RequestState>();

export function stateOf(request: { event: HttpEvent }): RequestState {
  const state = states.get(request.event);
  if (!state) throw new Error('requestScope() must be the first middleware');
  return state;
}

/** Gives the request an id (API Gateway's own), a bound log, and `x-request-id` on every response. */
export function requestScope(operation: string): HttpMiddleware {
  const finish = (request: HttpRequest) => {
    const state = stateOf(request);
    const response = request.response;
    if (!response) return;
    response.headers = { ...response.headers, 'x-request-id': state.requestId };
    const ms = performance.now() - state.startedAt;
    state.log.debug('request done', { status: response.statusCode, ms: Math.round(ms) });
    requestMetrics(operation, response.statusCode ?? 200, ms, state.errorCode);
  };
  return {
    before: (request) => {
      const requestId = request.event.requestContext?.requestId || randomUUID();
      states.set(request.event, { requestId, log: requestLog(requestId, operation), caller: anonymousCaller, startedAt: performance.now() });
    },
    after: finish,
    onError: finish,
  };
}

/**
 * The one place errors become HTTP: a ProvisionerError shows its code and message; anything else is
 * logged with its stack and answered 500 `internal_error` naming only the request id.
 */
export function errorResponses(): HttpMiddleware {
  return {
    onError: (request) => {
      const state = stateOf(request);
      const error = request.error;
      if (error instanceof ProvisionerError) {
        if (error.status >= 500) state.log.warn('dependency failure', { code: error.code, error_message: error.message });
        // Every 503 tells the caller when to retry, whichever dependency raised it.
        const headers = error.status === 503 && !error.headers?.['retry-after'] ? { ...error.headers, 'retry-after': '5' } : error.headers;
        state.errorCode = error.code;
        request.response = json(error.status, { error: { code: error.code, message: error.message, ...(error.details && { details: error.details }) } }, headers);
        return;
      }
      state.log.error('unexpected error', { error });
      state.errorCode = 'internal_error';
      request.response = json(500, {
        error: {
          code: 'internal_error',
          message: `Something went wrong on our side; it was logged with request id ${state.requestId}.`,
          details: { request_id: state.requestId },
        },
      });
    },
  };
}

const jsonContentType = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** No route takes more than this: a bigger body is refused before it is parsed (the local server stops reading it). */
export const maxBodyBytes = 64 * 1024;

export function bodyTooLarge(): ProvisionerError {
  return new ProvisionerError('body_too_large', `The body is larger than ${maxBodyBytes / 1024} KB; no request needs more.`, { max_bytes: maxBodyBytes });
}

/** Caps every body at `maxBodyBytes` (413); parses a JSON body for routes that take one: 415 for another content type, 400 for bad JSON. */
export function jsonBody(spec: RouteSpec): HttpMiddleware {
  return {
    before: (request) => {
      const { event } = request;
      const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
      if (Buffer.byteLength(raw) > maxBodyBytes) throw bodyTooLarge();
      if (!spec.body) return;
      // An empty body means "all defaults", as `curl -X POST` sends it.
      if (raw.trim() === '') {
        stateOf(request).body = {};
        return;
      }
      const contentType = event.headers?.['content-type'] ?? '';
      if (!jsonContentType.test(contentType)) {
        throw new ProvisionerError(
          'unsupported_media_type',
          `The body must be JSON: send it with "Content-Type: application/json"${contentType ? ` (got "${contentType}")` : ''}.`,
        );
      }
      try {
        stateOf(request).body = JSON.parse(raw);
      } catch (error) {
        // Never quote the body back: it may hold a token. The position is enough to find the mistake.
        const position = /position (\d+)/.exec((error as Error).message)?.[1];
        throw new ProvisionerError('invalid_json', `The body is not valid JSON${position ? ` (at character ${position})` : ''}.`);
      }
    },
  };
}

/** Validates path parameters, query and body against the route's zod schemas: 400 naming each bad field. */
export function validateInput(spec: RouteSpec): HttpMiddleware {
  return {
    before: (request) => {
      const state = stateOf(request);
      const issues: { location: string; path: string; message: string }[] = [];
      const parse = (location: string, schema: z.ZodMiniType | undefined, value: unknown) => {
        if (!schema) return {};
        const result = schema.safeParse(value);
        if (result.success) return result.data;
        for (const issue of result.error.issues) {
          issues.push({ location, path: issue.path.map(String).join('.'), message: issue.message });
        }
        return undefined;
      };
      const input = {
        params: parse('path', spec.params?.(), request.event.pathParameters ?? {}),
        query: parse('query', spec.query?.(), request.event.queryStringParameters ?? {}),
        body: parse('body', spec.body?.(), state.body ?? {}),
      };
      if (issues.length > 0) {
        const list = issues.map((i) => `${[i.location, i.path].filter(Boolean).join('.')}: ${i.message}`).join('; ');
        throw new ProvisionerError('invalid_request', `Invalid request: ${list}.`, { issues });
      }
      state.input = input;
    },
  };
}

/** Resolves the handler's dependencies (built on first use, kept while the container is warm). */
export function resolveDependencies<D>(providers: Providers<D>): HttpMiddleware {
  const resolve = dependencies(providers);
  return {
    before: async (request) => {
      stateOf(request).deps = await resolve();
    },
  };
}

export function json(statusCode: number, body: unknown, headers?: Record<string, string>): HttpResult {
  if (statusCode === 204) return { statusCode, headers: { ...headers } };
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
