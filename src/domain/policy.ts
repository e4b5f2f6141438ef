import { ProvisionerError } from './errors.js';
import { atLeast, type Caller, type Level } from './levels.js';

/** A route's minimum level: anonymous callers are asked to log in, others are refused. */
export function requireLevel(caller: Caller, required: Level): void {
  if (atLeast(caller.level, required)) return;
  if (caller.level === 'anonymous') {
    throw new ProvisionerError('authentication_required', 'Log in first (POST /v1/login) and send the token as "Authorization: Bearer <token>".');
  }
  throw new ProvisionerError('forbidden', `This needs the ${required} level; you are ${caller.level}.`);
}
