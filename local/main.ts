import { readEnv, localSettings } from '../src/config.js';
import { installRuntime } from '../src/deps.js';
import { startLocalRuntime } from '../src/runtime/local.js';
import { fail, runCommand } from './command.js';
import { scheduledDispatch, startLocalServer } from './server.js';

/**
 * `npm start`: the API on this machine, on dynalite and local adapters.
 * `npm start -- --memory` (or PROVISIONER_MEMORY=1) runs on a throw-away store.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--memory');
  if (unknown.length > 0) fail(`Unknown argument ${unknown.join(' ')}; the only option is --memory.`);
  const config = readEnv(localSettings());
  if (args.includes('--memory')) config.PROVISIONER_MEMORY = true;

  const runtime = await startLocalRuntime({ config });
  installRuntime(runtime.deps);
  let server;
  try {
    server = await startLocalServer({ port: config.PORT });
  } catch (error) {
    await runtime.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') fail(`Port ${config.PORT} is already in use; stop what uses it or set PORT.`);
    throw error;
  }
  runtime.servedAt(server.url);
  const dispatch = await scheduledDispatch();
  await runtime.startScheduler(dispatch);
  // The janitor as in AWS: at start (what a crash left half done converges) and every hour.
  await dispatch('janitor', {});
  setInterval(() => void dispatch('janitor', {}), 3_600_000).unref();
  const where = config.PROVISIONER_MEMORY ? 'in memory' : `in ${config.PROVISIONER_DATA_DIR}/`;
  console.log(`Provisioner API listening on ${server.url} (state ${where}). Ctrl-C stops it.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping.`);
    await server.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

runCommand(main);
