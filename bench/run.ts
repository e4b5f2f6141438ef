/**
 * `npm run bench`: what a cold start and a busy hour cost. Not a test: it prints figures measured in
 * one run, each against a baseline measured in the same run, so that the ratios hold on any machine.
 *   1. each Lambda bundle: size, and module-init time in a fresh Node process with exactly the
 *      environment the synthesized stack gives that function, against a reference handler (the
 *      DynamoDB document client plus jose's jwtVerify, bundled whole by plain esbuild); then, for
 *      a few functions that need only the table, init plus a first request against dynalite, as a
 *      caller feels a cold start, against the reference's init plus its first request
 *   2. the local API's requests/s: GET /v1/health against a bare node:http server, and ACCESS
 *      (POST /v1/clusters/{cluster}/access with a user JWT) against a bare node:http server that
 *      verifies the user JWT and signs a cluster JWT with jose; ACCESS as a GitHub member (each request
 *      counted by the rate limit, see src/http/rate-leases.ts) and as an org member (whom the catalog does not limit)
 *   3. µs per ES256 sign and verify of a cluster JWT
 *   4. mixed load (bench/load.ts): ACCESS, WHOAMI and GET with deploy/destroy cycles; p50/p99, errors
 *   5. idle cost (bench/load.ts): store requests per minute while clusters sit running (goal 0)
 *   6. scale (bench/scale.ts): lists, the admin overview and the janitor at 10,000s of items against 100
 * BENCH_SECONDS (default 5) sets the length of each load test, BENCH_ROUNDS (default 15) the cold starts
 * per function, BENCH_IDLE_CLUSTERS (default 5) and BENCH_IDLE_SECONDS (default 30) the idle test.
 * `npm run bench -- load idle` runs only the sections named (cold, throughput, signing, load, idle, scale).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { SignJWT } from 'jose';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundling } from '../lib/bundling.js';
import { ProvisionerStack } from '../lib/provisioner-stack.js';
import { shippedCatalogFile } from '../lib/shipped-catalog.js';
import { DynamoStore } from '../src/adapters/aws/dynamo-store.js';
import { TablePublicKeys } from '../src/adapters/aws/table-public-keys.js';
import { startLocalDynamo } from '../src/adapters/local/dynalite.js';
import { FileKeyVault } from '../src/adapters/local/file-key-vault.js';
import { routes } from '../src/api/routes.js';
import { exampleCatalogPath } from '../src/runtime/local.js';
import { systemClock } from '../src/domain/clock.js';
import { ensureKeys } from '../src/tokens/key-service.js';
import { importSigningKey, publicJwks, type StoredKey } from '../src/tokens/keys.js';
import { signClusterToken, signUserToken, verifyClusterToken } from '../src/tokens/tokens.js';
import { VerifiedUserTokens } from '../src/tokens/verified-tokens.js';
import { benchSetup, idleCost, mixedLoad } from './load.js';
import { scale } from './scale.js';
import { loadTest, median, startProcess } from './tools.js';

/** The goals of issue 9. */
const goals = { bundleKb: 512, initRatio: 1.1, accessRatio: 1.0 };
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// Per worktree, in the project's node_modules as before (the external, first-use clients resolve there).
const out = join('node_modules', '.cache', 'provisioner-bench', basename(resolve('.')));

/** What Lambda itself puts in every function's environment (credentials are placeholders: nothing is called). */
function lambdaEnvironment(taskRoot: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    LAMBDA_TASK_ROOT: taskRoot,
    TZ: ':UTC',
  };
}

/**
 * Each of our functions with the environment the synthesized stack gives it. CloudFormation values
 * (Ref, GetAtt) become plausible literals; bundling is skipped (the bench bundles below, with the
 * same settings).
 */
function stackFunctions(): { operation: string; env: Record<string, string> }[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new ProvisionerStack(app, 'Bench'));
  return Object.values(template.findResources('AWS::Lambda::Function'))
    .filter((fn) => fn.Properties.Handler === 'index.handler')
    .map((fn) => {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      const env = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : /ISSUER|URL/.test(name) ? 'https://api.example.com' : 'arn:aws:lambda:us-east-1:123456789012:function:placeholder',
        ]),
      );
      return { operation: env.PROVISIONER_OPERATION ?? '?', env };
    });
}

/** Bundles a function as the CDK does (lib/bundling.ts); returns the file and its size in KB. */
async function bundleFunction(operation: string): Promise<{ file: string; kb: number }> {
  const outfile = join(out, operation, 'index.mjs');
  await build({
    entryPoints: [`lambdas/${operation}/index.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    target: bundling.target,
    format: bundling.format,
    mainFields: bundling.mainFields,
    banner: { js: bundling.banner },
    external: bundling.externalModules,
    alias: bundling.alias,
    logLevel: 'silent',
  });
  return { file: outfile, kb: statSync(outfile).size / 1024 };
}

/** The reference handler, bundled with the issue's flags: --bundle --minify --format=esm --platform=node --target=node22 --main-fields=module,main. */
async function bundleReference(): Promise<{ file: string; kb: number }> {
  const outfile = join(out, 'reference', 'index.mjs');
  await build({ entryPoints: ['bench/reference-handler.mjs'], outfile, bundle: true, minify: true, format: 'esm', platform: 'node', target: 'node22', mainFields: ['module', 'main'], logLevel: 'silent' });
  return { file: outfile, kb: statSync(outfile).size / 1024 };
}

/**
 * Time to import a module in a fresh Node process with only `env`, as Lambda's init phase does: wall
 * time (the goal), and the process's CPU time, which other load on the machine disturbs much less.
 */
function importTime(file: string, env: Record<string, string>): Promise<{ wall: number; cpu: number }> {
  const script = [
    'const cpu = process.cpuUsage(); const start = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(resolve(file)).href)});`,
    'const wall = performance.now() - start; const used = process.cpuUsage(cpu);',
    'console.log(JSON.stringify({ wall, cpu: (used.user + used.system) / 1000 }));',
  ].join('\n');
  return measureInFreshProcess(script, env, `importing ${file}`);
}

/** Runs an ES module script in a fresh Node process with only `env`; resolves with the JSON of its last output line. */
function measureInFreshProcess<T>(script: string, env: Record<string, string>, what: string): Promise<T> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? done(JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as T) : reject(new Error(`${what} exited ${code}: ${errors.slice(-1000)}`))));
  });
}

async function coldStarts(): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  const taskRoot = join(out, 'task-root');
  mkdirSync(taskRoot, { recursive: true });
  copyFileSync(shippedCatalogFile(exampleCatalogPath), join(taskRoot, 'catalog.json'));
  const base = lambdaEnvironment(resolve(taskRoot));
  const functions = stackFunctions();
  const reference = await bundleReference();
  const bundles = await Promise.all(functions.map(async (fn) => ({ ...fn, ...(await bundleFunction(fn.operation)) })));
  // Interleaved rounds, the reference at the start and the middle of each: a machine that slows down
  // during the run slows the reference and the functions alike.
  const referenceTimes: { wall: number; cpu: number }[] = [];
  const times = new Map<string, { wall: number; cpu: number }[]>(bundles.map((b) => [b.operation, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [i, bundle] of bundles.entries()) {
      if (i % Math.ceil(bundles.length / 2) === 0) referenceTimes.push(await importTime(reference.file, base));
      times.get(bundle.operation)?.push(await importTime(bundle.file, { ...base, ...bundle.env }));
    }
  }
  const ref = { wall: median(referenceTimes.map((t) => t.wall)), cpu: median(referenceTimes.map((t) => t.cpu)) };
  console.log(`\n1. Cold module init, median of ${rounds} fresh processes each, every function with its stack environment`);
  console.log(`   goals: init ≤ ${goals.initRatio}× the reference handler's, bundle ≤ ${goals.bundleKb} KB (CPU time: the same, less disturbed by other load)`);
  console.log('   function               size KB   init ms   × reference   CPU ms   × reference');
  const row = (name: string, kb: number, wall: number, cpu: number, flag = '') =>
    console.log(`   ${name.padEnd(22)} ${kb.toFixed(1).padStart(7)}   ${wall.toFixed(1).padStart(7)}   ${(wall / ref.wall).toFixed(2).padStart(11)}   ${cpu.toFixed(1).padStart(6)}   ${(cpu / ref.cpu).toFixed(2).padStart(11)}${flag}`);
  row('(reference handler)', reference.kb, ref.wall, ref.cpu);
  let worst = 0;
  for (const bundle of bundles) {
    const samples = times.get(bundle.operation) ?? [];
    const wall = median(samples.map((t) => t.wall));
    const cpu = median(samples.map((t) => t.cpu));
    worst = Math.max(worst, wall / ref.wall);
    row(bundle.operation, bundle.kb, wall, cpu, wall / ref.wall > goals.initRatio || bundle.kb > goals.bundleKb ? '  ← over the goal' : '');
  }
  console.log(`   worst init ratio ${worst.toFixed(2)}`);
  await firstRequests(reference.file, bundles, base);
}

/** A first request of each kind: reads only the table (and the catalog), so dynalite serves it all. */
const firstRequestRoutes = { whoami: {}, 'list-clusters': {}, 'get-cluster': { cluster: 'demo' } } as const;

/** An API Gateway (HTTP API, payload 2.0) event for a route of the table, as a GitHub member sends it. */
function routeEvent(operation: keyof typeof firstRequestRoutes, token: string) {
  const spec = routes[operation];
  const params: Record<string, string> = firstRequestRoutes[operation];
  const path = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');
  return {
    version: '2.0',
    routeKey: `${spec.method} ${spec.path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}`, host: 'api.example.com' },
    ...(Object.keys(params).length > 0 && { pathParameters: params }),
    requestContext: {
      accountId: '123456789012', apiId: 'bench', domainName: 'api.example.com', domainPrefix: 'api', requestId: 'bench', routeKey: `${spec.method} ${spec.path}`,
      stage: '$default', time: new Date().toISOString(), timeEpoch: Date.now(),
      http: { method: spec.method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'bench' },
    },
    isBase64Encoded: false,
  };
}

/**
 * Init and then one invocation in a fresh process; the answer must be a success (the reference
 * answers its GetItem's output, a function its HTTP result).
 */
function initAndFirst(file: string, env: Record<string, string>, event: unknown): Promise<{ init: number; first: number; cpu: number }> {
  const script = [
    'const cpu = process.cpuUsage(); const start = performance.now();',
    `const { handler } = await import(${JSON.stringify(pathToFileURL(resolve(file)).href)});`,
    'const loaded = performance.now();',
    `const answer = await handler(${JSON.stringify(event)}, { awsRequestId: 'bench', getRemainingTimeInMillis: () => 29000 });`,
    'const done = performance.now(); const used = process.cpuUsage(cpu);',
    "if (answer?.statusCode !== undefined && answer.statusCode >= 300) throw new Error(`answered ${answer.statusCode}: ${answer.body}`);",
    'console.log(JSON.stringify({ init: loaded - start, first: done - loaded, cpu: (used.user + used.system) / 1000 }));',
  ].join('\n');
  return measureInFreshProcess(script, env, `a first request to ${file}`);
}

/**
 * What a caller feels of a cold start: module init plus the first request, which builds the
 * clients, reads the shipped catalog, builds the route's input schema, verifies the user JWT against
 * the keys published in the table, counts the rate limit and reads the table. Against the reference
 * handler's init plus its first request (jwtVerify and one GetItem), both on one dynalite.
 */
async function firstRequests(referenceFile: string, bundles: { operation: string; file: string; env: Record<string, string> }[], base: Record<string, string>): Promise<void> {
  const table = 'bench';
  const dynamo = await startLocalDynamo({ tableName: table });
  try {
    const set = await ensureKeys(new FileKeyVault(undefined), systemClock);
    const jwks = publicJwks(set);
    await new TablePublicKeys(new DynamoStore(dynamo.client, table, systemClock), systemClock).publish(jwks);
    const caller = { sub: 'github:bench', login: 'bench', level: 'github_member' as const, orgs: [] };
    const { token } = await signUserToken(importSigningKey(set.keys[0] as StoredKey), caller, { issuer: 'https://api.example.com', ttlSeconds: 3600, now: new Date() });
    const local = { ...base, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
    const chosen = bundles.filter((b): b is typeof b & { operation: keyof typeof firstRequestRoutes } => b.operation in firstRequestRoutes);
    const referenceTimes: { init: number; first: number; cpu: number }[] = [];
    const times = new Map<string, { init: number; first: number; cpu: number }[]>(chosen.map((b) => [b.operation, []]));
    for (let round = 0; round < rounds; round++) {
      referenceTimes.push(await initAndFirst(referenceFile, { ...local, TABLE: table }, { token, jwks }));
      for (const bundle of chosen) times.get(bundle.operation)?.push(await initAndFirst(bundle.file, { ...local, ...bundle.env, PROVISIONER_TABLE: table }, routeEvent(bundle.operation, token)));
    }
    const summary = (samples: { init: number; first: number; cpu: number }[]) => ({
      init: median(samples.map((t) => t.init)),
      first: median(samples.map((t) => t.first)),
      total: median(samples.map((t) => t.init + t.first)),
      cpu: median(samples.map((t) => t.cpu)),
    });
    const ref = summary(referenceTimes);
    console.log(`\n   Init plus the first request, median of ${rounds} fresh processes each, on one dynalite`);
    console.log('   function               init ms   first request ms   total ms   × reference   CPU ms   × reference');
    const row = (name: string, t: ReturnType<typeof summary>) =>
      console.log(`   ${name.padEnd(22)} ${t.init.toFixed(1).padStart(7)}   ${t.first.toFixed(1).padStart(16)}   ${t.total.toFixed(1).padStart(8)}   ${(t.total / ref.total).toFixed(2).padStart(11)}   ${t.cpu.toFixed(1).padStart(6)}   ${(t.cpu / ref.cpu).toFixed(2).padStart(11)}`);
    row('(reference handler)', ref);
    for (const bundle of chosen) row(bundle.operation, summary(times.get(bundle.operation) ?? []));
    console.log('   (the reference verifies a JWT against keys it is handed and reads one item; a function reads the keys from the table, counts the rate limit and reads its own items.\n    Wall time includes waiting on dynalite, which runs in the bench process; CPU time is the function\'s own.)');
  } finally {
    await dynamo.close();
  }
}

async function throughput(): Promise<void> {
  const concurrency = 16;
  // Limits out of reach: every request of a GitHub member is still counted (an ADD each), none refused.
  const { catalogPath, devUsers } = benchSetup(exampleCatalog());
  const api = await startProcess('npx', ['tsx', 'local/main.ts', '--memory'], /listening on (\S+)/, {
    PORT: '0',
    PROVISIONER_LOG_LEVEL: 'WARN',
    PROVISIONER_CATALOG: catalogPath,
    PROVISIONER_DEV_USERS: devUsers,
  });
  try {
    const login = async (githubToken: string) => {
      const response = await fetch(`${api.url}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ github_token: githubToken }) });
      return ((await response.json()) as { token: string }).token;
    };
    const token = await login('bench-dev-token');
    const memberToken = await login('bench-member-token');
    const jwks = await (await fetch(`${api.url}/.well-known/jwks.json`)).text();
    const bare = await startProcess('node', ['bench/bare-server.mjs'], /listening on (\S+)/);
    const jose = await startProcess('node', ['bench/bare-jose-server.mjs'], /listening on (\S+)/, { BENCH_ISSUER: api.url, BENCH_JWKS: jwks });
    const access = { method: 'POST', headers: { authorization: `Bearer ${token}` } };
    const accessPath = '/v1/clusters/demo/access';
    try {
      const bareRate = await loadTest(`${bare.url}/v1/health`, seconds, concurrency);
      const healthRate = await loadTest(`${api.url}/v1/health`, seconds, concurrency);
      // Alternated, so that neither side gets the quieter half of the run.
      const joseRates: number[] = [];
      const accessRates: number[] = [];
      for (let i = 0; i < 2; i++) {
        joseRates.push(await loadTest(`${jose.url}${accessPath}`, seconds, concurrency, access));
        accessRates.push(await loadTest(`${api.url}${accessPath}`, seconds, concurrency, access));
      }
      const memberRate = await loadTest(`${api.url}${accessPath}`, seconds, concurrency, { method: 'POST', headers: { authorization: `Bearer ${memberToken}` } });
      const joseRate = joseRates.reduce((a, b) => a + b) / joseRates.length;
      const accessRate = accessRates.reduce((a, b) => a + b) / accessRates.length;
      console.log(`\n2. Requests/s, ${seconds} s per run, ${concurrency} keep-alive connections, every answer 2xx (else the bench fails)`);
      const row = (label: string, rate: number, ratio?: number, goal?: number) =>
        console.log(`   ${label.padEnd(44)} ${rate.toFixed(0).padStart(6)} req/s${ratio === undefined ? '' : `   ratio ${ratio.toFixed(2)}${goal !== undefined && ratio < goal ? '  ← under the goal' : ''}`}`);
      row('bare node:http', bareRate);
      row('GET /v1/health', healthRate, healthRate / bareRate);
      row('bare node:http + jose (verify user JWT, sign)', joseRate);
      row(`POST ${accessPath}, counted`, accessRate, accessRate / joseRate, goals.accessRatio);
      row(`POST ${accessPath}, org member`, memberRate, memberRate / joseRate);
      console.log('   (counted: a GitHub member, every request counted against the limit, by leased ADDs; org member: unlimited by the catalog, no ADD)');
      jose.stop();
      bare.stop();
    } catch (error) {
      jose.stop();
      bare.stop();
      throw error;
    }
  } finally {
    api.stop();
  }
}

async function signing(): Promise<void> {
  const runs = 2_000;
  const set = await ensureKeys(new FileKeyVault(undefined), systemClock);
  const stored = set.keys[0] as StoredKey;
  const key = importSigningKey(stored);
  const jwks = publicJwks(set);
  const caller = { sub: 'github:bench', login: 'bench', level: 'org_member' as const, orgs: ['acme'] };
  const options = { issuer: 'https://bench.example', ttlSeconds: 3600, now: new Date() };
  const time = async (run: (i: number) => Promise<unknown>) => {
    const start = performance.now();
    for (let i = 0; i < runs; i++) await run(i);
    return ((performance.now() - start) * 1000) / runs;
  };
  const tokens: string[] = [];
  const signUs = await time(async () => tokens.push((await signClusterToken(key, 'demo', caller, options)).token));
  // The way every token was signed before: jose, through WebCrypto, with the same key.
  const webCryptoKey = await crypto.subtle.importKey('jwk', stored.private_jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const joseUs = await time(() => new SignJWT({ level: 'org_member' }).setProtectedHeader({ alg: 'ES256', kid: stored.kid, typ: 'cluster+jwt' }).setIssuer(options.issuer).setAudience('demo').sign(webCryptoKey));
  const verifyUs = await time((i) => verifyClusterToken(tokens[i] ?? '', 'demo', async () => jwks, { issuer: options.issuer, now: options.now }));
  const { token } = await signUserToken(key, caller, options);
  const cache = new VerifiedUserTokens();
  const cachedUs = await time(() => cache.verify(token, async () => jwks, { issuer: options.issuer, now: options.now }));
  console.log(`\n3. ES256 (${runs} each)`);
  console.log(`   sign, node:crypto              ${signUs.toFixed(0).padStart(6)} µs`);
  console.log(`   sign, jose + WebCrypto         ${joseUs.toFixed(0).padStart(6)} µs`);
  console.log(`   verify a cluster JWT, jose     ${verifyUs.toFixed(0).padStart(6)} µs`);
  console.log(`   a user JWT already verified    ${cachedUs.toFixed(0).padStart(6)} µs`);
}

const exampleCatalog = () => JSON.parse(readFileSync(exampleCatalogPath, 'utf8')) as Record<string, unknown>;
const sections: Record<string, () => Promise<void>> = {
  cold: coldStarts,
  throughput,
  signing,
  load: () => mixedLoad(exampleCatalog(), Math.max(seconds * 2, 10)),
  idle: () => idleCost(exampleCatalog(), Number(process.env.BENCH_IDLE_CLUSTERS ?? 5), Number(process.env.BENCH_IDLE_SECONDS ?? 30)),
  scale,
};
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in sections));
if (unknown.length > 0) {
  console.error(`Unknown bench section ${unknown.join(', ')}; the sections are ${Object.keys(sections).join(', ')}.`);
  process.exit(2);
}
for (const [name, run] of Object.entries(sections)) if (chosen.length === 0 || chosen.includes(name)) await run();
