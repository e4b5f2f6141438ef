import type { Caller } from './domain/levels.js';
import type { Log } from './log.js';

/**
 * Who acts in a use case: the caller (authorization, limits) and the request its audit events and
 * log lines name. An HTTP request's caller comes from its token; a timed call's is the scheduler.
 */
export interface Actor {
  caller: Caller;
  requestId: string;
  log: Log;
}
