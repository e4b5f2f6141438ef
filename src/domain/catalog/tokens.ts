import { once } from '../../once.js';
import * as z from '../../zod.js';
import { duration } from './fields.js';

/** API tokens' section (issue 23): the longest lifetime a token may be created with. */
export const tokensSection = once(() => ({
  tokens: z._default(z.strictObject({ max_ttl: z._default(duration(), '90d') }), { max_ttl: '90d' }),
}));
