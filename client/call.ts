import { type ApiOperation, type Operation, type RouteSpec, routes } from '../src/api/routes.js';
import type { Session } from './session.js';
import type { OperationInput, OperationOutput, UrlValue } from './types.js';

/** The input may be left out when every part of it is optional (`call('whoami')`). */
export type CallArgs<O extends Operation> = Partial<OperationInput<O>> extends OperationInput<O> ? [input?: OperationInput<O>] : [input: OperationInput<O>];

/** Any operation of the JSON API, by name: `call('get-cluster', { params: { cluster: 'demo' } })`. */
export type Call = <O extends ApiOperation>(operation: O, ...input: CallArgs<O>) => Promise<OperationOutput<O>>;

/** How the input looks once its operation is no longer known statically. */
interface AnyInput {
  params?: Record<string, UrlValue>;
  query?: Record<string, UrlValue | undefined>;
  body?: unknown;
}

/**
 * The typed call under every service: method and path come from `src/api/routes.ts`, `{param}`
 * placeholders are filled URL-encoded, and the session does the HTTP (retries, errors, the user JWT).
 * The API validates the input; the types keep a caller from sending what the table does not allow.
 */
export function createCall(session: Session): Call {
  return async <O extends ApiOperation>(operation: O, ...[input]: CallArgs<O>): Promise<OperationOutput<O>> => {
    // Plain JavaScript callers are not stopped by the types.
    const spec: RouteSpec | undefined = Object.hasOwn(routes, operation) ? routes[operation] : undefined;
    if (!spec || spec.file) throw new TypeError(`unknown operation "${operation}"`);
    const { params, query, body }: AnyInput = input ?? {};
    return session.request<OperationOutput<O>>(spec.method, fillPath(spec.path, params), { query, body, auth: sendsUserToken(operation, spec) });
  };
}

/**
 * Public routes need no user JWT, and the login routes must not ask for one: getting it may mean
 * logging in, which would then ask again.
 */
function sendsUserToken(operation: Operation, spec: RouteSpec): boolean {
  return !spec.public && operation !== 'login' && operation !== 'login-device' && operation !== 'login-device-token';
}

/** `/things/{id}/parts` with `{ id: 'a b' }` is `/things/a%20b/parts`. */
function fillPath(template: string, params: Record<string, UrlValue> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_placeholder, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`${template} needs params.${name}`);
    return encodeURIComponent(String(value));
  });
}
