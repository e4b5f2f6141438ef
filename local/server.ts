import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchRoute } from '../src/api/match.js';
import { type Operation, operations, routeKey, routes } from '../src/api/routes.js';
import { fallbackHandler } from '../src/http/fallback.js';
import { bodyTooLarge, maxBodyBytes } from '../src/http/middleware.js';
import type { HttpEvent, HttpHandler, HttpResult } from '../src/http/types.js';
import type { Dispatch } from '../src/adapters/local/store-scheduler.js';
import { type ScheduleTarget, scheduleTargetNames, scheduleTargets } from '../src/scheduling/targets.js';

/** Loads the very handler modules Lambda runs, one per route, by the route table's convention. */
export async function loadHandlers(): Promise<Map<Operation, HttpHandler>> {
  const handlers = new Map<Operation, HttpHandler>();
  // One at a time: jest's ESM loader fails on parallel imports of shared modules.
  for (const operation of operations) {
    const module = (await import(`../lambdas/${operation}/index.js`)) as { handler: HttpHandler };
    handlers.set(operation, module.handler);
  }
  return handlers;
}

/** What the local scheduler fires: each target's handler from the schedule-target table, as Lambda runs it. */
export async function scheduledDispatch(): Promise<Dispatch> {
  const handlers = new Map<ScheduleTarget, (event: unknown, context: Context) => Promise<unknown>>();
  for (const target of scheduleTargetNames) {
    const module = (await import(`../lambdas/${scheduleTargets[target].lambda}/index.js`)) as { handler: (event: unknown, context: Context) => Promise<unknown> };
    handlers.set(target, module.handler);
  }
  return async (target, payload) => {
    await handlers.get(target)?.(payload, { awsRequestId: randomUUID() } as Context);
  };
}

export interface LocalServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Serves the API over HTTP: each request becomes an API Gateway HTTP API v2 event for its handler. */
export async function startLocalServer(options: { port: number; host?: string }): Promise<LocalServer> {
  const handlers = await loadHandlers();
  const fallback = fallbackHandler();
  const server = createServer((req, res) => {
    void serve(req, res, handlers, fallback);
  });
  // Headers past Node's limit never reach a handler: answer them in the API's error shape too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const [status, code, message] = tooLarge ? [431, 'headers_too_large', 'The request headers are too large.'] : [400, 'invalid_request', 'The request is not valid HTTP.'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, handlers: Map<Operation, HttpHandler>, fallback: HttpHandler): Promise<void> {
  try {
    const body = await readBody(req);
    if (body === undefined) {
      // Stop reading a body past the cap (as API Gateway stops at its own): 413 without buffering it.
      const requestId = randomUUID();
      const error = bodyTooLarge();
      write(res, { statusCode: error.status, headers: { 'content-type': 'application/json', 'x-request-id': requestId, connection: 'close' }, body: JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } }) });
      req.destroy();
      return;
    }
    // The request target as a path of this origin, as API Gateway takes it: `//x` is a path, never another host (and never a throw).
    const target = req.url ?? '/';
    const url = new URL(`http://local${target.startsWith('/') ? target : `/${target}`}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const match = matchRoute(method, url.pathname);
    const operation = match.kind === 'route' ? match.operation : undefined;
    const event = toEvent(req, url, method, body, operation, match.kind === 'route' ? match.params : undefined);
    const handler = (operation && handlers.get(operation)) || fallback;
    const timeoutMs = (operation ? (routes[operation] as { timeoutSeconds?: number }).timeoutSeconds ?? 30 : 30) * 1000;
    const deadline = Date.now() + timeoutMs;
    const context = {
      awsRequestId: event.requestContext.requestId,
      functionName: `provisioner-${operation ?? 'fallback'}`,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:provisioner-${operation ?? 'fallback'}`,
      memoryLimitInMB: '256',
      logGroupName: 'local',
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    } as unknown as Context;
    write(res, await handler(event, context));
  } catch (error) {
    // Only a bug in this adapter gets here: the handlers map every error themselves.
    console.error('local server error', error);
    write(res, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'internal_error', message: 'Local server failure.' } }) });
  }
}

/** The body, or undefined once it passes `maxBodyBytes` (declared or read). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEvent(req: IncomingMessage, url: URL, method: string, body: Buffer, operation: Operation | undefined, params: Record<string, string> | undefined): HttpEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const key = operation ? routeKey(routes[operation]) : '$default';
  return {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    ...(params && { pathParameters: params }),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: body.toString('utf8') }),
    isBase64Encoded: false,
  };
}

function write(res: ServerResponse, result: HttpResult): void {
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? '');
}
