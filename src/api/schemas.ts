import { errorCodes } from '../domain/errors.js';
import { levels } from '../domain/levels.js';
import * as z from '../zod.js';

/** Schemas shared by several routes. Field names are snake_case, as in API.md. */

export const errorBody = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
});

export const level = z.enum(levels);

export const identity = z.object({ login: z.nullable(z.string()), level, orgs: z.array(z.string()) });

export const health = z.object({ status: z.literal('ok'), version: z.string(), time: z.iso.datetime() });

/** `?limit=&next_token=` on every list. */
export const pageQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 25),
  next_token: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});

export function page<T extends z.ZodMiniType>(item: T) {
  return z.object({ items: z.array(item), next_token: z.optional(z.string()) });
}

/** Anything JSON: the OpenAPI document is described by its own standard, not here. */
export const jsonDocument = z.record(z.string(), z.unknown());
