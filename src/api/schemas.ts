import { z } from 'zod';
import { errorCodes } from '../domain/errors.js';
import { levels } from '../domain/levels.js';

/** Schemas shared by several routes. Field names are snake_case, as in API.md. */

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(errorCodes),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const level = z.enum(levels).meta({ id: 'Level' });

export const identity = z
  .object({ login: z.string().nullable(), level, orgs: z.array(z.string()) })
  .meta({ id: 'Identity' });

export const health = z.object({ status: z.literal('ok'), version: z.string(), time: z.iso.datetime() });

/** `?limit=&next_token=` on every list. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  next_token: z.string().min(1).max(2048).optional(),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_token: z.string().optional() });
}

/** Anything JSON: the OpenAPI document is described by its own standard, not here. */
export const jsonDocument = z.record(z.string(), z.unknown());
