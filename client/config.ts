import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';

/**
 * Client configuration: `~/.config/provisioner.toml` (or PROVISIONER_CONFIG), whose `[defaults]`
 * and `[credentials]` are overridden by environment variables, over built-in defaults.
 */
export interface ClientConfig {
  /** The API's base URL. */
  url: string;
  /** Extra attempts on 429, 503 and network errors. */
  retries: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** A user JWT to use as is (PROVISIONER_TOKEN), e.g. in CI. */
  token?: string;
  /** A GitHub token to log in with when no valid user JWT is cached. */
  githubToken?: string;
  /** The audience of the GitHub Actions OIDC token the client requests. */
  audience: string;
  /** GitHub's web URL, for the device flow (GitHub Enterprise: https://HOST). */
  githubUrl: string;
  /** The OAuth app client id for the device flow. */
  clientId?: string;
  /** Where the user JWT is cached (a 0600 file). */
  cacheDir: string;
  /** The file read, if any. */
  configPath: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface FileConfig {
  defaults?: { url?: string; retries?: number; timeout?: number; audience?: string; github_url?: string; client_id?: string };
  credentials?: { github_token?: string; token?: string };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, home = homedir()): ClientConfig {
  const configPath = env.PROVISIONER_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'provisioner.toml');
  const file = readConfigFile(configPath);
  const defaults = file.defaults ?? {};
  const credentials = file.credentials ?? {};
  const retries = env.PROVISIONER_RETRIES ?? defaults.retries ?? 3;
  const timeout = env.PROVISIONER_TIMEOUT ?? defaults.timeout ?? 30;
  const config: ClientConfig = {
    url: (env.PROVISIONER_URL ?? defaults.url ?? 'http://127.0.0.1:2323').replace(/\/+$/, ''),
    retries: whole(retries, 'retries', 0, 10),
    timeoutMs: whole(timeout, 'timeout (seconds)', 1, 600) * 1000,
    token: env.PROVISIONER_TOKEN ?? credentials.token,
    githubToken: env.PROVISIONER_GITHUB_TOKEN ?? credentials.github_token,
    audience: env.PROVISIONER_OIDC_AUDIENCE ?? defaults.audience ?? 'provisioner',
    githubUrl: (env.PROVISIONER_GITHUB_URL ?? defaults.github_url ?? 'https://github.com').replace(/\/+$/, ''),
    clientId: env.PROVISIONER_CLIENT_ID ?? defaults.client_id,
    cacheDir: env.PROVISIONER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'provisioner'),
    configPath,
  };
  try {
    new URL(config.url);
  } catch {
    throw new ConfigError(`url must be a URL such as https://provisioner.example.com (got "${config.url}").`);
  }
  return config;
}

function readConfigFile(path: string): FileConfig {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return {};
  }
  // The file may hold credentials: refuse it while others can read it.
  if ((mode & 0o077) !== 0) throw new ConfigError(`${path} is readable by others; run: chmod 600 ${path}`);
  try {
    return parse(readFileSync(path, 'utf8')) as FileConfig;
  } catch (error) {
    throw new ConfigError(`${path} is not valid TOML: ${(error as Error).message}`);
  }
}

function whole(value: unknown, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${String(value)}").`);
  return n;
}
