import { once } from '../../once.js';
import * as z from '../../zod.js';
import { durationPattern, durationRule } from '../duration.js';
import { resourceNamePattern, resourceNameRule } from '../names.js';

/** Field types every section of the catalog uses. */
export const resourceName = once(() => z.string().check(z.regex(resourceNamePattern, `must be ${resourceNameRule}`)));
export const githubName = once(() => z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a GitHub login, organization or team slug')));
export const duration = once(() => z.string().check(z.regex(durationPattern, durationRule)));
export const positive = once(() => z.number().check(z.int(), z.gte(1)));
