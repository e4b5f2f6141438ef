import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from '../zod.js';
import type { RouteSpec } from '../api/routes.js';
import type { Caller } from '../domain/levels.js';
import type { Log } from '../log.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

type Parsed<S> = S extends (() => infer T extends z.ZodMiniType) ? z.output<T> : Record<string, never>;

/** What an operation receives, typed from its route's schemas. */
export interface InputOf<R extends RouteSpec> {
  params: Parsed<R['params']>;
  query: Parsed<R['query']>;
  body: Parsed<R['body']>;
}

/** What an operation answers: one of its route's statuses with a body of that status's schema. */
export type ReplyOf<R extends RouteSpec> = {
  [S in keyof R['responses'] & number]: {
    status: S;
    body: R['responses'][S] extends (() => infer T extends z.ZodMiniType) ? z.input<T> : never;
    headers?: Record<string, string>;
  };
}[keyof R['responses'] & number];

/** Per-request facts the operation may use besides its input. */
export interface RequestFacts {
  requestId: string;
  caller: Caller;
  sourceIp: string;
  log: Log;
}

export interface OperationContext<D> extends RequestFacts {
  deps: D;
}

export type OperationFn<R extends RouteSpec, D> = (input: InputOf<R>, context: OperationContext<D>) => Promise<ReplyOf<R>>;
