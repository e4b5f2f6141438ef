import type { Context } from 'aws-lambda';
import type { Actor } from '../actor.js';
import { dependencies, type Providers } from '../deps.js';
import { systemCaller } from '../domain/levels.js';
import { requestLog } from '../log.js';
import { type ScheduleTarget, scheduleTargets, type TargetInput } from './targets.js';

/**
 * The handler of a schedule target (EventBridge Scheduler's call, no HTTP): validates the input
 * against the target's schema, acts as the scheduler, resolves dependencies like an HTTP handler, and logs the outcome.
 */
export function scheduledHandler<T extends ScheduleTarget, D, R>(target: T, providers: Providers<D>, run: (input: TargetInput<T>, deps: D, actor: Actor) => Promise<R>) {
  const resolveDeps = dependencies(providers);
  return async (event: unknown, context?: Pick<Context, 'awsRequestId'>): Promise<R | { ignored: string }> => {
    const requestId = context?.awsRequestId ?? crypto.randomUUID();
    const log = requestLog(requestId, `scheduled-${target}`);
    const parsed = scheduleTargets[target].input().safeParse(event);
    if (!parsed.success) {
      // A malformed schedule will never succeed: log it, and end without an error so that it is not retried.
      log.error('malformed scheduled input', { issues: parsed.error.issues.map((i) => i.message) });
      return { ignored: 'malformed scheduled input' };
    }
    const result = await run(parsed.data as TargetInput<T>, await resolveDeps(), { caller: systemCaller('scheduler'), requestId, log });
    log.info('scheduled call done', { result: result as unknown });
    return result;
  };
}
