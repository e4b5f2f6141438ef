import type { Context } from 'aws-lambda';
import { dependencies, type Providers } from '../runtime/deps.js';
import type * as z from '../zod.js';
import { type Log, requestLog } from './log.js';

/**
 * A handler for EventBridge Scheduler's calls (no HTTP): validates the input the schedule carries,
 * resolves dependencies like an HTTP handler, and logs the outcome.
 */
export function scheduledHandler<S extends z.ZodMiniType, D, R>(name: string, input: S, providers: Providers<D>, run: (event: z.output<S>, deps: D, actor: { sub: string; requestId: string; log: Log }) => Promise<R>) {
  const resolveDeps = dependencies(providers);
  return async (event: unknown, context?: Pick<Context, 'awsRequestId'>): Promise<R | { ignored: string }> => {
    const requestId = context?.awsRequestId ?? crypto.randomUUID();
    const log = requestLog(requestId, name);
    const parsed = input.safeParse(event);
    if (!parsed.success) {
      // A malformed schedule will never succeed: log it, and end without an error so that it is not retried.
      log.error('malformed scheduled input', { issues: parsed.error.issues.map((i) => i.message) });
      return { ignored: 'malformed scheduled input' };
    }
    const result = await run(parsed.data, await resolveDeps(), { sub: 'scheduler', requestId, log });
    log.info('scheduled call done', { result: result as unknown });
    return result;
  };
}
