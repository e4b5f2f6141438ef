/**
 * `npm run bench`: what a cold start and a busy hour cost. Not a test: it prints figures measured in
 * one run, with ratios against a baseline measured in the same run.
 *   1. each Lambda bundle: minified size, and module-init time in a fresh Node process (median)
 *   2. the local API's requests/s on GET /v1/health, and cluster-JWT issues/s (POST .../access),
 *      each against a bare node:http server
 *   3. µs per ES256 sign and verify of a cluster JWT
 */
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { operations } from '../src/api/routes.js';
import { bundling } from '../lib/bundling.js';
import { FileKeyVault } from '../src/adapters/local/file-key-vault.js';
import { exampleCatalogPath } from '../src/runtime/local.js';
import { systemClock } from '../src/domain/clock.js';
import { ensureKeys } from '../src/tokens/key-service.js';
import { importSigningKey, publicJwks, type StoredKey } from '../src/tokens/keys.js';
import { signClusterToken, verifyClusterToken } from '../src/tokens/tokens.js';
import { loadTest, median, startProcess } from './tools.js';

const targets = { bundleKb: 250, initMs: 50, throughputRatio: 0.5 };
const initRuns = 7;

async function bundles(): Promise<void> {
  // Inside the project, so that the external AWS SDK resolves from node_modules as Lambda's runtime provides it.
  const out = join('node_modules', '.cache', 'provisioner-bench');
  console.log(`\n1. Lambda bundles, AWS SDK v3 left to the runtime (target: ≤ ${targets.bundleKb} KB, init ≤ ${targets.initMs} ms; median of ${initRuns} cold processes)`);
  console.log('   operation              size KB   init ms   of which the AWS SDK (loaded alone)');
  for (const operation of [...operations, 'fallback']) {
    const outfile = join(out, operation, 'index.mjs');
    const result = await build({
      metafile: true,
      entryPoints: [`lambdas/${operation}/index.ts`],
      outfile,
      bundle: true,
      platform: 'node',
      minify: bundling.minify,
      sourcemap: bundling.sourceMap,
      target: bundling.target,
      format: bundling.format,
      mainFields: bundling.mainFields,
      banner: { js: bundling.banner },
      external: bundling.externalModules,
      logLevel: 'silent',
    });
    const sizeKb = statSync(outfile).size / 1024;
    // The SDK packages the bundle imports from the runtime; timed alone in fresh processes too.
    const external = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')));
    const sdk = [...new Set(external.filter((i) => i.kind !== 'dynamic-import').map((i) => i.path))];
    // Clients imported on first use (EC2, Scheduler): not part of init.
    const lazy = [...new Set(external.filter((i) => i.kind === 'dynamic-import').map((i) => i.path.replace('@aws-sdk/', '')))];
    const times: number[] = [];
    const sdkTimes: number[] = [];
    for (let i = 0; i < initRuns; i++) {
      times.push(await importTime([pathToFileURL(outfile).href]));
      if (sdk.length > 0) sdkTimes.push(await importTime(sdk));
    }
    const init = median(times);
    const sdkMs = sdkTimes.length > 0 ? median(sdkTimes) : 0;
    const flag = sizeKb > targets.bundleKb || init - sdkMs > targets.initMs ? '  ← over target' : init > targets.initMs ? '  ← over target by the SDK alone' : '';
    const sdkNote = (sdk.length > 0 ? `${sdkMs.toFixed(1).padStart(7)} ms (${sdk.map((p) => p.replace('@aws-sdk/', '')).join(', ')})` : '      -') + (lazy.length > 0 ? `; on first use: ${lazy.join(', ')}` : '');
    console.log(`   ${operation.padEnd(22)} ${sizeKb.toFixed(1).padStart(7)}   ${init.toFixed(1).padStart(7)}   ${sdkNote}${flag}`);
  }
}

/** Time to import modules in a fresh Node process, as Lambda's init phase does. */
async function importTime(modules: string[]): Promise<number> {
  const script = `const t = performance.now(); for (const m of ${JSON.stringify(modules)}) await import(m); console.log(performance.now() - t);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, AWS_REGION: 'us-east-1', PROVISIONER_TABLE: 'bench', POWERTOOLS_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(Number(output.trim())) : reject(new Error(`importing ${modules.join(', ')} exited ${code}`))));
  });
}

async function throughput(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = 16;
  console.log(`\n2. Throughput of GET /v1/health (${seconds} s each, ${concurrency} keep-alive connections; target ratio ≥ ${targets.throughputRatio})`);
  const bare = await startProcess('node', ['bench/bare-server.mjs'], /listening on (\S+)/);
  const bareRate = await loadTest(`${bare.url}/v1/health`, seconds, concurrency);
  bare.stop();
  // The example catalog without its rate limits: the bench measures serving, not refusing.
  const { rate_limits: _limits, ...unlimited } = JSON.parse(readFileSync(exampleCatalogPath, 'utf8')) as Record<string, unknown>;
  const catalogPath = join(mkdtempSync(join(tmpdir(), 'provisioner-bench-')), 'catalog.json');
  writeFileSync(catalogPath, JSON.stringify(unlimited));
  const api = await startProcess('npx', ['tsx', 'local/main.ts', '--memory'], /listening on (\S+)/, { PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN', PROVISIONER_CATALOG: catalogPath });
  const apiRate = await loadTest(`${api.url}/v1/health`, seconds, concurrency);
  const accessRate = await loadTest(`${api.url}/v1/clusters/demo/access`, seconds, concurrency, { method: 'POST' });
  api.stop();
  const row = (label: string, rate: number, ratio?: number) =>
    console.log(`   ${label.padEnd(28)} ${rate.toFixed(0).padStart(7)} req/s${ratio === undefined ? '' : `   ratio ${ratio.toFixed(2)}${ratio < targets.throughputRatio ? '  ← under target' : ''}`}`);
  row('bare node:http', bareRate);
  row('GET /v1/health', apiRate, apiRate / bareRate);
  row('POST /v1/clusters/demo/access', accessRate, accessRate / bareRate);
}

async function signing(): Promise<void> {
  const runs = 2_000;
  const vault = new FileKeyVault(undefined);
  const set = await ensureKeys(vault, systemClock);
  const key = await importSigningKey(set.keys[0] as StoredKey);
  const jwks = publicJwks(set);
  const caller = { sub: 'github:bench', login: 'bench', level: 'org_member' as const, orgs: ['acme'] };
  const options = { issuer: 'https://bench.example', ttlSeconds: 3600, now: new Date() };
  const tokens: string[] = [];
  let start = performance.now();
  for (let i = 0; i < runs; i++) tokens.push((await signClusterToken(key, 'demo', caller, options)).token);
  const signUs = ((performance.now() - start) * 1000) / runs;
  start = performance.now();
  for (const token of tokens) await verifyClusterToken(token, 'demo', async () => jwks, { issuer: options.issuer, now: options.now });
  const verifyUs = ((performance.now() - start) * 1000) / runs;
  console.log(`\n3. ES256 cluster JWT (${runs} each)`);
  console.log(`   sign     ${signUs.toFixed(0).padStart(6)} µs`);
  console.log(`   verify   ${verifyUs.toFixed(0).padStart(6)} µs`);
}

await bundles();
await throughput();
await signing();
