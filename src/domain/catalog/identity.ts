import { once } from '../../once.js';
import * as z from '../../zod.js';
import { levels } from '../levels.js';
import { duration, githubName, positive } from './fields.js';

/** Identity's section: the organization, who administers, rate limits, which Actions workflows may log in. */
export const identitySection = once(() => ({
  organization: githubName(),
  admin_team: z.optional(githubName()),
  admins: z._default(z.array(githubName()), []),
  rate_limits: z._default(z.partialRecord(z.enum(levels), z.strictObject({ requests: positive(), per: duration() })), {}),
  actions: z._default(
    z.array(
      z.strictObject({
        repository: z.string().check(z.regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/repo')),
        /** Pins the rule to GitHub's repository id too, so a renamed or re-created repository of that name does not match. */
        repository_id: z.optional(z.string().check(z.regex(/^[1-9]\d{0,19}$/, 'must be the repository\'s numeric id'))),
        ref: z.string().check(z.regex(/^refs\/(heads|tags)\/\S+$/, 'must be a full ref such as refs/heads/main')),
        level: z.enum(levels),
      }),
    ),
    [],
  ),
}));
