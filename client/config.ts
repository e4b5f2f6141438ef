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
  /** A Provisioner API token (`prv_…`, PROVISIONER_API_TOKEN) to log in with when no valid user JWT is cached; before a GitHub token. */
  apiToken?: string;
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

/** A setting the client cannot work with; `field` names it as the config file spells it. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Section = 'defaults' | 'credentials';
type FileConfig = Partial<Record<Section, Record<string, unknown>>>;

/** One setting as read: its value and where it was set, so that an error can say which line to fix. */
interface Setting {
  field: string;
  value: unknown;
  source: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, home = homedir()): ClientConfig {
  const configPath = env.PROVISIONER_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'provisioner.toml');
  const file = readConfigFile(configPath);
  /** The environment variable over the file's `[section] field`; undefined when neither is set. */
  const setting = (variable: string, section: Section, field: string): Setting | undefined => {
    if (env[variable] !== undefined) return { field, value: env[variable], source: variable };
    const value = file[section]?.[field];
    return value === undefined ? undefined : { field, value, source: `${field} in [${section}] of ${configPath}` };
  };
  return {
    url: httpUrl(setting('PROVISIONER_URL', 'defaults', 'url')) ?? 'http://127.0.0.1:2323',
    retries: whole(setting('PROVISIONER_RETRIES', 'defaults', 'retries'), 0, 10) ?? 3,
    timeoutMs: (whole(setting('PROVISIONER_TIMEOUT', 'defaults', 'timeout'), 1, 600, ' (seconds)') ?? 30) * 1000,
    token: text(setting('PROVISIONER_TOKEN', 'credentials', 'token')),
    githubToken: text(setting('PROVISIONER_GITHUB_TOKEN', 'credentials', 'github_token')),
    apiToken: text(setting('PROVISIONER_API_TOKEN', 'credentials', 'api_token')),
    audience: text(setting('PROVISIONER_OIDC_AUDIENCE', 'defaults', 'audience')) ?? 'provisioner',
    githubUrl: httpUrl(setting('PROVISIONER_GITHUB_URL', 'defaults', 'github_url')) ?? 'https://github.com',
    clientId: text(setting('PROVISIONER_CLIENT_ID', 'defaults', 'client_id')),
    cacheDir: env.PROVISIONER_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'provisioner'),
    configPath,
  };
}

function readConfigFile(path: string): FileConfig {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return {};
  }
  // The file may hold credentials: refuse it while others can read it.
  if ((mode & 0o077) !== 0) throw new ConfigError('file', `${path} is readable by others; run: chmod 600 ${path}`);
  let parsed: Record<string, unknown>;
  try {
    parsed = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('file', `${path} is not valid TOML: ${(error as Error).message}`);
  }
  for (const section of ['defaults', 'credentials'] as const) {
    const value = parsed[section];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ConfigError(section, `${section} in ${path} must be a table ([${section}]), not a value.`);
    }
  }
  return parsed as FileConfig;
}

function text(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  if (typeof setting.value !== 'string') throw new ConfigError(setting.field, `${setting.source} must be a string in quotes (got ${JSON.stringify(setting.value)}).`);
  return setting.value;
}

/**
 * An http(s) base URL, without its trailing slashes. `localhost:4104` parses as a URL of scheme
 * "localhost:", so the scheme is checked rather than trusted to fail.
 */
function httpUrl(setting: Setting | undefined): string | undefined {
  const value = text(setting);
  if (setting === undefined || value === undefined) return undefined;
  const problem = `${setting.source} must be an http:// or https:// URL such as https://provisioner.example.com (got "${value}"`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting.field, `${problem}).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // A host:port without a scheme is the likely mistake; suggest the local form.
    const hint = /^[\w.-]+:\d+$/.test(value) ? `; did you mean http://${value}?` : '';
    throw new ConfigError(setting.field, `${problem}${hint}).`);
  }
  // The client appends API paths to it: a query or fragment would end up in the middle.
  if (url.search || url.hash || url.username || url.password) throw new ConfigError(setting.field, `${problem}): no query, fragment or credentials in it.`);
  return value.replace(/\/+$/, '');
}

function whole(setting: Setting | undefined, min: number, max: number, unit = ''): number | undefined {
  if (setting === undefined) return undefined;
  const { value } = setting;
  // Number('') is 0: an empty variable is a mistake, not "no retries".
  const n = typeof value === 'number' || (typeof value === 'string' && value.trim() !== '') ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(setting.field, `${setting.source} must be a whole number from ${min} to ${max}${unit} (got ${JSON.stringify(value)}).`);
  }
  return n;
}
