import { z } from 'zod';

/** A setting that is missing or malformed: start-up stops with a message naming the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Shape = Record<string, z.ZodType>;

/**
 * Reads and validates a set of environment variables at once. Each runtime (and each AWS provider)
 * names only the variables it needs, so a missing one fails the cold start that needs it, by name.
 */
export function readEnv<S extends Shape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return env[name] === undefined ? `${name} is not set` : `${name} is invalid (${issue.message})`;
  });
  throw new ConfigError(`Bad configuration: ${problems.join('; ')}.`);
}

const port = z.coerce.number().int().min(0).max(65535);

/** Settings of the local runtime (`npm start`); see the README's configuration table. */
export const localSettings = {
  PORT: port.default(2323),
  PROVISIONER_DATA_DIR: z.string().min(1).default('.provisioner'),
  PROVISIONER_MEMORY: z.enum(['0', '1', 'false', 'true']).default('0').transform((v) => v === '1' || v === 'true'),
  PROVISIONER_PUBLIC_URL: z.url().optional(),
};

export type LocalConfig = z.infer<z.ZodObject<typeof localSettings>>;

/** The local runtime's table name; in AWS the stack passes its own in PROVISIONER_TABLE. */
export const localTableName = 'provisioner';
