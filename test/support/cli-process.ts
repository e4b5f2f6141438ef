import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI (`client/cli/bin.mjs`) as its own process against `apiUrl`, logged in with a GitHub
 * token of the fake GitHub; the user JWT is cached per token under `cacheDir`, no config file.
 */
export function runCli(apiUrl: string, cacheDir: string, args: string[], githubToken: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['client/cli/bin.mjs', ...args], {
      env: {
        ...process.env,
        PROVISIONER_URL: apiUrl,
        PROVISIONER_CONFIG: join(cacheDir, 'absent.toml'),
        // Per login: the CLI caches the user JWT per API URL.
        PROVISIONER_CACHE_DIR: join(cacheDir, githubToken),
        PROVISIONER_GITHUB_TOKEN: githubToken,
        PROVISIONER_POLL_MS: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
