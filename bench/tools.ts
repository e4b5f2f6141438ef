import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Starts a server process and waits for the line that gives its URL. */
export function startProcess(command: string, args: string[], urlLine: RegExp, env: Record<string, string> = {}): Promise<{ url: string; stop(): void; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const stop = () => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGTERM');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${command} ${args.join(' ')} did not start: ${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = urlLine.exec(output);
      if (found?.[1]) {
        clearTimeout(timer);
        resolve({ url: found[1], stop, child });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
}

/** Closed-loop load: `concurrency` keep-alive clients for `seconds`; returns completed requests/s. */
export async function loadTest(url: string, seconds: number, concurrency: number, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const end = Date.now() + seconds * 1000;
  let done = 0;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`${url} answered ${res.statusCode}`));
          else resolve();
        });
      });
      req.on('error', reject);
      req.end(options.body);
    });
  // Warm up, then measure.
  await Promise.all(Array.from({ length: concurrency }, () => once()));
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await once();
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((performance.now() - start) / 1000);
}
