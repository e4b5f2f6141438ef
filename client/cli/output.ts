import { ConfigError } from '../config.js';
import { ProvisionerApiError } from '../session.js';

/** The documented exit codes. */
export const exit = { ok: 0, failed: 1, usage: 2, auth: 3, timeout: 4, unavailable: 5 } as const;

export class UsageError extends Error {}

/** The exit code of an error: usage, auth, timeout, unavailable, or plain failure. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) return exit.usage;
  if (!(error instanceof ProvisionerApiError)) return exit.failed;
  // The device flow without an OAuth client id is a configuration to complete, not an outage.
  if (error.code === 'no_client_id') return exit.usage;
  if (error.code === 'timeout') return exit.timeout;
  if (error.status === 401 || error.status === 403 || error.code === 'not_in_github_actions' || error.code === 'device_flow_failed') return exit.auth;
  if (error.status === 400) return exit.usage;
  if (error.status === 0 || error.status === 429 || error.status >= 500) return error.code === 'operation_failed' ? exit.failed : exit.unavailable;
  return exit.failed;
}

export interface Output {
  json: boolean;
  /** The command's result: JSON with --json, else the text. */
  result(value: unknown, text: string): void;
  /** Progress on stderr: one rewritten line on a terminal, plain lines elsewhere. */
  progress(line: string): void;
  /** Text on stdout as it comes (a followed log). */
  write(text: string): void;
  /** A line of a report as it goes: stdout in text, stderr under --json (where stdout is one document). */
  line(text: string): void;
  error(error: unknown): void;
}

export function output(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  let last = '';
  return {
    json,
    result(value, text) {
      if (last && stderr.isTTY) stderr.write('\n');
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
    },
    progress(line) {
      if (line === last) return;
      if (stderr.isTTY) stderr.write(`\r\x1b[2K${line}`);
      else stderr.write(`${line}\n`);
      last = line;
    },
    write(text) {
      stdout.write(text);
    },
    line(text) {
      // Ends the progress line, if any, so that it stays above the report's line.
      if (last && stderr.isTTY) stderr.write('\n');
      last = '';
      (json ? stderr : stdout).write(`${text}\n`);
    },
    error(error) {
      if (last && stderr.isTTY) stderr.write('\n');
      // A script reading --json output gets an answer it can parse for every failure, not only the API's.
      if (json) stdout.write(`${JSON.stringify({ error: errorJson(error) }, null, 2)}\n`);
      const code = error instanceof ProvisionerApiError ? ` (${error.code})` : '';
      stderr.write(`provisioner: ${(error as Error).message}${code}\n`);
    },
  };
}

/** The `error` object of --json output: the API's code and status, or the CLI's own code. */
function errorJson(error: unknown): { code: string; message: string; status?: number; details?: Record<string, unknown> } {
  const message = (error as Error).message;
  if (error instanceof ProvisionerApiError) return { code: error.code, message, status: error.status, details: error.details };
  if (error instanceof ConfigError) return { code: 'invalid_config', message, details: { field: error.field } };
  if (error instanceof UsageError) return { code: 'usage', message };
  return { code: 'failed', message };
}
