/**
 * The API's shapes, typed from the route table (type-only here; `call.ts` reads the table at run
 * time). A route added to the table gets its input and output types with no change in this file.
 */
import type { Operation, Routes } from '../src/api/routes.js';
import type * as z from '../src/zod.js';

export type { Operation } from '../src/api/routes.js';

type Part = 'params' | 'query' | 'body';

/** The input type of one part of a route, or undefined when the route has no such part. */
type PartInput<O extends Operation, P extends Part> = Routes[O] extends { [K in P]: () => infer Schema extends z.ZodMiniType } ? z.input<Schema> : undefined;

/** What a URL can carry: the query schemas coerce from anything, but the client sends text. */
export type UrlValue = string | number | boolean;
type InUrl<T, Value> = T extends undefined ? undefined : { [K in keyof T]: T[K] & Value };

/** A part the route has is required unless all its fields are optional; a part it lacks cannot be given. */
type Field<P extends Part, T> = [T] extends [undefined] ? { [K in P]?: never } : Partial<T> extends T ? { [K in P]?: T } : { [K in P]: T };

/** `{ params, query, body }` of an operation, typed from its route's schemas. */
export type OperationInput<O extends Operation> = Field<'params', InUrl<PartInput<O, 'params'>, UrlValue>> &
  Field<'query', InUrl<PartInput<O, 'query'>, UrlValue | undefined>> &
  Field<'body', PartInput<O, 'body'>>;

type Responses<O extends Operation> = Routes[O]['responses'];

/** The body of an operation's success answers (204 has none). */
export type OperationOutput<O extends Operation> = {
  [S in keyof Responses<O>]: S extends 204 ? undefined : Responses<O>[S] extends (() => infer Schema extends z.ZodMiniType) ? z.output<Schema> : never;
}[keyof Responses<O>];

export type Cluster = OperationOutput<'get-cluster'>;
export type ClusterStatus = Cluster['status'];
export type ClusterEvent = OperationOutput<'cluster-events'>['items'][number];
export type ClusterToken = OperationOutput<'access'>;
export type Identity = OperationOutput<'whoami'>;
export type LoginResult = OperationOutput<'login'>;

export interface Page<T> {
  items: T[];
  next_token?: string;
}

/** `?limit=&next_token=` of a list route, from the SDK's `{ limit, nextToken }`. */
export const pageQuery = (page: PageOptions) => ({ limit: page.limit, next_token: page.nextToken });

/** Every item of a paged list, fetching 100 at a time. */
export async function* allPages<T>(list: (page: PageOptions) => Promise<Page<T>>): AsyncGenerator<T> {
  let nextToken: string | undefined;
  do {
    const page = await list({ limit: 100, nextToken });
    yield* page.items;
    nextToken = page.next_token;
  } while (nextToken);
}

export interface PageOptions {
  limit?: number;
  nextToken?: string;
}
