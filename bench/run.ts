/**
 * `npm run bench`: what a cold start and a busy hour cost. Not a test: it prints figures measured in
 * one run, with ratios against a baseline measured in the same run.
 *   1. each Lambda bundle: minified size, and module-init time in a fresh Node process (median)
 *   2. the local API's requests/s on GET /v1/health against a bare node:http server
 */
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { operations } from '../src/api/routes.js';
import { bundling } from '../lib/bundling.js';
import { loadTest, median, startProcess } from './tools.js';

const targets = { bundleKb: 250, initMs: 50, throughputRatio: 0.5 };
const initRuns = 7;

async function bundles(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'provisioner-bench-'));
  console.log(`\n1. Lambda bundles (target: ≤ ${targets.bundleKb} KB, init ≤ ${targets.initMs} ms; median of ${initRuns} cold processes)`);
  console.log('   operation              size KB   init ms');
  for (const operation of [...operations, 'fallback']) {
    const outfile = join(out, operation, 'index.mjs');
    await build({
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
      logLevel: 'silent',
    });
    const sizeKb = statSync(outfile).size / 1024;
    const times: number[] = [];
    for (let i = 0; i < initRuns; i++) times.push(await initTime(outfile));
    const init = median(times);
    const flag = sizeKb > targets.bundleKb || init > targets.initMs ? '  ← over target' : '';
    console.log(`   ${operation.padEnd(22)} ${sizeKb.toFixed(1).padStart(7)}   ${init.toFixed(1).padStart(7)}${flag}`);
  }
}

/** Time to import the bundle in a fresh process, as Lambda's init phase does. */
async function initTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, AWS_REGION: 'us-east-1', PROVISIONER_TABLE: 'bench', POWERTOOLS_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(Number(output.trim())) : reject(new Error(`init of ${file} exited ${code}`))));
  });
}

async function throughput(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = 16;
  console.log(`\n2. Throughput of GET /v1/health (${seconds} s each, ${concurrency} keep-alive connections; target ratio ≥ ${targets.throughputRatio})`);
  const bare = await startProcess('node', ['bench/bare-server.mjs'], /listening on (\S+)/);
  const bareRate = await loadTest(`${bare.url}/v1/health`, seconds, concurrency);
  bare.stop();
  const api = await startProcess('npx', ['tsx', 'local/main.ts', '--memory'], /listening on (\S+)/, { PORT: '0', POWERTOOLS_LOG_LEVEL: 'WARN' });
  const apiRate = await loadTest(`${api.url}/v1/health`, seconds, concurrency);
  api.stop();
  console.log(`   bare node:http    ${bareRate.toFixed(0).padStart(7)} req/s`);
  console.log(`   local API         ${apiRate.toFixed(0).padStart(7)} req/s`);
  console.log(`   ratio             ${(apiRate / bareRate).toFixed(2).padStart(7)}${apiRate / bareRate < targets.throughputRatio ? '  ← under target' : ''}`);
}

await bundles();
await throughput();
