import { localSettings, readEnv } from '../src/config.js';
import { installRuntime } from '../src/deps.js';
import { startLocalRuntime } from '../src/runtime/local.js';
import { runCommand } from './command.js';

/**
 * `npm run janitor`: one sweep of the local data dir (re-examine every cluster, stop nodes no
 * active deployment owns). A running `npm start` already sweeps at start and hourly, and holds the
 * data dir: stop it first.
 */
async function main(): Promise<void> {
  const config = readEnv(localSettings());
  const runtime = await startLocalRuntime({ config });
  installRuntime(runtime.deps);
  // The very handler Lambda runs hourly.
  const janitor = (await import('../lambdas/janitor/index.js')) as { handler: (event: unknown) => Promise<unknown> };
  console.log(JSON.stringify(await janitor.handler({})));
  await runtime.close();
}

runCommand(main);
