import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../src/adapters/local/processes.js';
import { motoCommand } from './moto-command.js';

/**
 * moto (`moto_server`), an AWS emulator speaking the real wire protocols of EC2, ECS, EventBridge
 * Scheduler, S3, DynamoDB, Secrets Manager and SSM, on a free loopback port for one suite. The
 * adapters are pointed at it with `clientConfig` (an explicit endpoint, any region, dummy keys), so
 * the real SDK serializes every call and parses every answer. `jest.config.js` leaves `test/aws/` out
 * (saying so in one line) when `moto_server` is missing, unless PROVISIONER_REQUIRE_MOTO=1 (CI).
 */
export interface Moto {
  endpoint: string;
  region: string;
  /** For any SDK v3 client: `new EC2Client(moto.clientConfig)`. */
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Forgets every resource (moto's own reset endpoint). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const command = motoCommand();
  if (!command) throw new Error('moto_server is not on PATH: pip install "moto[server]" (CI sets PROVISIONER_REQUIRE_MOTO=1 and needs it).');
  const port = await freePort();
  const child: ChildProcess = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilServing(endpoint, child);
  const region = 'us-east-1';
  return {
    endpoint,
    region,
    clientConfig: { endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitUntilServing(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before serving`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`moto_server did not answer on ${endpoint} within 20 s`);
}
