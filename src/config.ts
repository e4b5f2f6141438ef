import { parseDuration } from './domain/duration.js';
import { once } from './once.js';
import * as z from './zod.js';

/** A setting that is missing or malformed: start-up stops with a message naming the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Shape = Record<string, z.ZodMiniType>;

/**
 * Reads and validates a set of environment variables at once. Each runtime (and each AWS provider)
 * names only the variables it needs, so a missing one fails the cold start that needs it, by name.
 */
export function readEnv<S extends Shape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodMiniObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return env[name] === undefined ? `${name} is not set` : `${name} is invalid (${issue.message})`;
  });
  throw new ConfigError(`Bad configuration: ${problems.join('; ')}.`);
}

/** A duration setting ("8h", "90m") read as seconds. */
export function durationSetting(fallback: string) {
  return z.pipe(
    z._default(z.string(), fallback),
    z.transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.issues.push({ code: 'custom', message: 'must be a duration such as "90m", "8h" or "2d"', input: text });
        return z.NEVER;
      }
      return ms / 1000;
    }),
  );
}

/** How long a deploy or destroy may take before it is failed (the seed's 10 minutes). */
export const operationTimeoutSetting = once(() => ({ PROVISIONER_OPERATION_TIMEOUT: durationSetting('10m') }));

/** Identity settings shared by both runtimes (API.md's table). */
export const identitySettings = once(() => ({
  PROVISIONER_GITHUB_API_URL: z._default(z.url(), 'https://api.github.com'),
  /** GitHub's web base, where the device-flow endpoints live (GitHub Enterprise: `https://HOST`). */
  PROVISIONER_GITHUB_URL: z._default(z.url(), 'https://github.com'),
  /** The OAuth app whose device flow the console's login uses; without it the device routes answer 501. */
  PROVISIONER_GITHUB_CLIENT_ID: z.optional(z.string().check(z.minLength(1))),
  PROVISIONER_GITHUB_OIDC_ISSUER: z._default(z.url(), 'https://token.actions.githubusercontent.com'),
  PROVISIONER_OIDC_AUDIENCE: z._default(z.string().check(z.minLength(1)), 'provisioner'),
  PROVISIONER_USER_TOKEN_TTL: durationSetting('8h'),
  PROVISIONER_CLUSTER_TOKEN_TTL: durationSetting('1h'),
}));

/** Settings of the local runtime (`npm start`); see the README's configuration table. */
export const localSettings = once(() => ({
  PORT: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(65535)), 2323),
  PROVISIONER_DATA_DIR: z._default(z.string().check(z.minLength(1)), '.provisioner'),
  PROVISIONER_MEMORY: z.pipe(
    z._default(z.enum(['0', '1', 'false', 'true']), '0'),
    z.transform((v) => v === '1' || v === 'true'),
  ),
  /** The catalog file; default: catalog/example.json. */
  PROVISIONER_CATALOG: z.optional(z.string().check(z.minLength(1))),
  /** Local only: a JSON file of static dev tokens that log in without GitHub. */
  PROVISIONER_DEV_USERS: z.optional(z.string().check(z.minLength(1))),
  /** The issuer URL of the tokens; default: the URL the server listens on. */
  PROVISIONER_PUBLIC_URL: z.optional(z.url()),
  /** The HMAC key webhook deliveries are signed with; default: generated once into <data dir>/webhook-secret (0600). */
  PROVISIONER_WEBHOOK_SECRET: z.optional(z.string().check(z.minLength(16))),
  ...identitySettings(),
  ...operationTimeoutSetting(),
}));

export type LocalConfig = z.infer<z.ZodMiniObject<ReturnType<typeof localSettings>>>;

/** The local runtime's table name; in AWS the stack passes its own in PROVISIONER_TABLE. */
export const localTableName = 'provisioner';
