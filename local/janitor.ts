import { localSettings, readEnv } from '../src/config.js';
import { installRuntime } from '../src/deps.js';
import { startLocalRuntime } from '../src/runtime/local.js';
import { fail, runCommand } from './command.js';

/**
 * `npm run janitor`: one sweep of the local data dir (re-examine every cluster, stop nodes no
 * active deployment owns). A running `npm start` already sweeps at start and hourly, and holds the
 * data dir: stop it first.
 */
async function main(): Promise<void> {
  const config = readEnv(localSettings);
  let runtime;
  try {
    runtime = await startLocalRuntime({ config });
  } catch (error) {
    if (/lock/i.test((error as Error).message)) fail(`${config.PROVISIONER_DATA_DIR} is in use by a running npm start, which sweeps at start and every hour; stop it to sweep now.`);
    throw error;
  }
  installRuntime(runtime.deps);
  // The very handler Lambda runs hourly.
  const janitor = (await import('../lambdas/janitor/index.js')) as { handler: (event: unknown) => Promise<unknown> };
  console.log(JSON.stringify(await janitor.handler({})));
  await runtime.close();
}

runCommand(main);
