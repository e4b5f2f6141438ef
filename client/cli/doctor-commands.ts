import { importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { durationRule, parseDuration } from '../../src/domain/duration.js';
import { createClusterVerifier } from '../../src/tokens/cluster-verifier.js';
import { signingAlgorithm } from '../../src/tokens/keys.js';
import { TokenRejected, verifyUserToken } from '../../src/tokens/tokens.js';
import type { Run } from '../runs.js';
import { ProvisionerApiError } from '../session.js';
import type { Cluster, ClusterStatus } from '../types.js';
import { type Command, type CommandContext, optionString } from './commands.js';
import { exit, exitCodeOf, UsageError } from './output.js';

/** One line of the report, as `--json` gives it. */
export interface DoctorStep {
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  seconds: number;
  detail?: string;
  error?: { code: string; message: string; status?: number };
}

/** A check that failed for a reason of its own rather than an API error: exit 1, with a code naming it. */
class CheckFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Ctrl-C: the checks stop and the cleanup runs. */
class Interrupted extends Error {}

/** The conventional exit code of a command stopped by Ctrl-C (128 + SIGINT). */
const interruptedExit = 130;

function errorOf(error: unknown): NonNullable<DoctorStep['error']> {
  if (error instanceof ProvisionerApiError) return { code: error.code, message: error.message, status: error.status };
  if (error instanceof CheckFailed) return { code: error.code, message: error.message };
  if (error instanceof Interrupted) return { code: 'interrupted', message: 'Stopped by Ctrl-C.' };
  return { code: 'failed', message: (error as Error).message };
}

/** What a passed check says: a detail, or why it had nothing to do (`skipped`). */
type Outcome = string | { skipped: string };

/** The steps run so far; each is printed as it ends. */
class Report {
  readonly steps: DoctorStep[] = [];
  /** The first failure: it sets the exit code. */
  failure?: { step: string; error: unknown };

  constructor(private readonly context: CommandContext) {}

  /** Runs one check and prints its line. A failure is recorded and thrown on: the checks after it build on it. */
  async step<T>(name: string, check: () => Promise<T>, outcome: (value: T) => Outcome): Promise<T> {
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 100) / 10;
    try {
      const value = await check();
      const said = outcome(value);
      this.record(typeof said === 'string' ? { name, status: 'ok', seconds: seconds(), detail: said } : { name, status: 'skipped', seconds: seconds(), detail: said.skipped });
      return value;
    } catch (error) {
      this.record({ name, status: 'failed', seconds: seconds(), error: errorOf(error) });
      this.failure ??= { step: name, error };
      throw error;
    }
  }

  private record(step: DoctorStep): void {
    this.steps.push(step);
    const outcome = { ok: 'ok  ', failed: 'FAIL', skipped: 'skip' }[step.status];
    const what = step.error ? `${step.error.message} (${step.error.code})` : (step.detail ?? '');
    this.context.out.line(`${outcome}  ${step.name.padEnd(22)} ${`${step.seconds.toFixed(1)} s`.padStart(8)}  ${what}`);
  }
}

/** What the quick checks establish, for the cluster cycle. */
interface Basics {
  issuer: string;
  jwks: JSONWebKeySet;
  /** The caller as the user JWT names them (`deployed_by` of what they deploy). */
  sub: string;
  administrator: boolean;
}

/** Health, discovery, keys, the API document and the login: read-only, seconds. */
async function basicChecks(context: CommandContext, report: Report): Promise<Basics> {
  const { client } = context;
  await report.step(
    'health',
    async () => {
      const health = await client.call('health');
      if (health.status !== 'ok') throw new CheckFailed('unhealthy', `The API reports ${String(health.status)}.`);
      return health;
    },
    (health) => `version ${health.version}`,
  );
  const discovery = await report.step(
    'openid-configuration',
    async () => {
      const configuration = await client.call('openid-configuration');
      if (!configuration.id_token_signing_alg_values_supported.includes(signingAlgorithm)) {
        throw new CheckFailed('unexpected_configuration', `The OpenID configuration does not list ${signingAlgorithm} among its signing algorithms.`);
      }
      return configuration;
    },
    (configuration) => `issuer ${configuration.issuer}`,
  );
  const jwks = await report.step('jwks', async () => checkedKeys(await client.call('jwks')), (keys) => `${keys.keys.length} ${signingAlgorithm} key(s): ${keys.keys.map((k) => k.kid).join(', ')}`);
  await report.step(
    'api-document',
    async () => {
      const document = await client.call('openapi');
      const paths = document.paths;
      if (typeof document.openapi !== 'string' || !document.openapi.startsWith('3.') || typeof paths !== 'object' || paths === null || !('/v1/health' in paths)) {
        throw new CheckFailed('invalid_api_document', 'The API document is not an OpenAPI 3 document describing /v1/health.');
      }
      return { version: document.openapi, paths: Object.keys(paths).length };
    },
    (document) => `OpenAPI ${document.version}, ${document.paths} paths`,
  );
  const login = await report.step('login', () => loginCheck(context, discovery.issuer, jwks), (me) => `${me.login ?? me.sub} (${me.level})`);
  return { issuer: discovery.issuer, jwks, sub: login.sub, administrator: login.level === 'administrator' };
}

/** Every key of the JWKS a public ES256 key with a `kid`, importable; at least one. */
async function checkedKeys(jwks: JSONWebKeySet): Promise<JSONWebKeySet> {
  if (jwks.keys.length === 0) throw new CheckFailed('invalid_jwks', 'The JWKS has no keys.');
  for (const [index, key] of jwks.keys.entries()) {
    const problem = keyProblem(key);
    if (problem) throw new CheckFailed('invalid_jwks', `Key ${index} of the JWKS ${problem}.`);
    try {
      await importJWK(key, signingAlgorithm);
    } catch (error) {
      throw new CheckFailed('invalid_jwks', `Key ${key.kid} of the JWKS is not a usable ${signingAlgorithm} key: ${(error as Error).message}.`);
    }
  }
  return jwks;
}

function keyProblem(key: JWK): string | undefined {
  if (typeof key.kid !== 'string' || key.kid === '') return 'has no kid';
  if (key.kty !== 'EC' || key.crv !== 'P-256') return `(${key.kid}) is not a P-256 EC key`;
  if (key.alg !== undefined && key.alg !== signingAlgorithm) return `(${key.kid}) is for ${key.alg}, not ${signingAlgorithm}`;
  // A private part in a public document would let anyone sign tokens.
  if ('d' in key) return `(${key.kid}) publishes its private part`;
  return undefined;
}

/**
 * The configured or cached credentials give a user JWT the API accepts (whoami, which renews a
 * refused cached one) and that verifies offline against the JWKS, as every function checks it.
 */
async function loginCheck(context: CommandContext, issuer: string, jwks: JSONWebKeySet) {
  const { client } = context;
  const me = await client.call('whoami');
  // After whoami, which renews a cached token the API refused.
  const token = await client.auth.token();
  if (token === undefined) throw new ProvisionerApiError(401, 'authentication_required', 'No credentials: run provisioner login, or set PROVISIONER_TOKEN or PROVISIONER_GITHUB_TOKEN.');
  if (me.level === 'anonymous') throw new ProvisionerApiError(401, 'invalid_token', 'The API does not accept the user JWT (whoami answers anonymous); run provisioner login.');
  try {
    const { caller } = await verifyUserToken(token, async () => jwks, { issuer, now: new Date() });
    return { ...me, sub: caller.sub };
  } catch (error) {
    if (error instanceof TokenRejected) throw new CheckFailed('token_rejected', `The user JWT does not verify against the JWKS and issuer ${issuer}: ${error.reason}.`);
    throw error;
  }
}

interface DeepOptions {
  cluster?: string;
  /** --skip-test: the catalog's TEST plan may take hours and a machine of its own. */
  skipTest: boolean;
  version: string;
  timeoutMs: number;
  runTimeoutMs: number;
  intervalMs: number;
}

/** What the cycle created and has not removed yet: the cleanup's list. */
interface Leftovers {
  cluster?: string;
  run?: Run;
}

/**
 * DEPLOY of an absent cluster, ACCESS and its JWT verified offline, a TEST if the catalog has a plan
 * for it, DESTROY. Records in `leftovers` what to remove if it stops on the way.
 */
async function clusterCycle(context: CommandContext, report: Report, basics: Basics, options: DeepOptions, leftovers: Leftovers, signal: AbortSignal): Promise<void> {
  const { client, out } = context;
  // Ctrl-C is noticed between steps and at each poll of a wait; the step it stops fails as `interrupted`.
  const step = <T>(name: string, check: () => Promise<T>, outcome: (value: T) => Outcome) =>
    report.step(
      name,
      () => {
        signal.throwIfAborted();
        return check();
      },
      outcome,
    );
  const progress = (line: string) => {
    signal.throwIfAborted();
    out.progress(line);
  };
  const { name } = await step('pick-cluster', () => pickCluster(context, basics, options.cluster), (cluster) => `${cluster.name} (${cluster.visibility}, absent)`);
  const waitFor = (target: ClusterStatus) =>
    client.clusters.waitFor(name, target, { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs, onProgress: (c, elapsed) => progress(`${name}: ${c.status} (${Math.round(elapsed / 1000)} s)`) });

  await step(
    'deploy',
    async () => {
      // Set before the call: a deploy whose answer is lost may still have started.
      leftovers.cluster = name;
      const started = await deploy(context, name, options);
      if (started.deployed_by !== basics.sub) {
        leftovers.cluster = undefined;
        throw new CheckFailed('cluster_taken', `${name} was deployed by ${started.deployed_by ?? 'someone else'} just before; doctor leaves it alone.`);
      }
      return waitFor('running');
    },
    (cluster) => `${cluster.nodes} node(s) running${cluster.endpoints.length > 0 ? ` at ${cluster.endpoints.join(', ')}` : ''}`,
  );
  await step(
    'access',
    async () => {
      const { token } = await client.clusters.access(name);
      try {
        return await createClusterVerifier({ issuer: basics.issuer, cluster: name, jwks: basics.jwks })(token);
      } catch (error) {
        if (error instanceof TokenRejected) throw new CheckFailed('token_rejected', `The cluster JWT does not verify against the JWKS (${signingAlgorithm}, issuer, audience ${name}, typ): ${error.reason}.`);
        throw error;
      }
    },
    (claims) => `cluster JWT verified offline for ${claims.sub}, expires ${claims.expiresAt.toISOString()}`,
  );
  await step(
    'test-run',
    async () => {
      if (options.skipTest) return 'left out with --skip-test';
      let started: Run;
      try {
        started = await client.runs.test(name, options.version);
      } catch (error) {
        // No plan, or TEST is not the caller's to run (administrators): nothing wrong with the deployment.
        if (error instanceof ProvisionerApiError && (error.code === 'runs_not_configured' || error.code === 'forbidden')) return error.message;
        throw error;
      }
      leftovers.run = started;
      const run = await client.runs.waitFor(started.id, {
        timeoutMs: options.runTimeoutMs,
        intervalMs: options.intervalMs,
        onProgress: (r, elapsed) => progress(`test ${r.id}: ${r.status} (${Math.round(elapsed / 1000)} s)`),
      });
      leftovers.run = undefined;
      if (run.status !== 'passed') {
        const where = run.failed_step ? ` at step ${run.failed_step}` : '';
        throw new ProvisionerApiError(0, 'operation_failed', `TEST ${run.id} ended ${run.status}${where}: ${run.reason ?? 'no reason given'}; its log: provisioner run ${run.id} --log`, { run });
      }
      return run;
    },
    (run) => (typeof run === 'string' ? { skipped: run } : `TEST ${run.id} at ${run.version} passed (${run.steps.length} steps)`),
  );
  await step('destroy', () => destroy(context, name, leftovers, waitFor), () => `${name} absent`);
}

/** The cluster named with --cluster, or the first one the caller may deploy; absent either way, so that doctor never destroys one in use. */
async function pickCluster(context: CommandContext, basics: Basics, named: string | undefined): Promise<Cluster> {
  if (named !== undefined) {
    const cluster = await context.client.clusters.get(named);
    if (cluster.status !== 'absent') {
      throw new CheckFailed('cluster_in_use', `${named} is ${cluster.status}; doctor deploys only an absent cluster, so that it never destroys one in use: name another with --cluster.`);
    }
    return cluster;
  }
  // Public clusters are deployed by administrators; a private one the caller sees, by its members.
  for await (const cluster of context.client.clusters.all()) {
    if (cluster.status === 'absent' && (basics.administrator || cluster.visibility === 'private')) return cluster;
  }
  throw new CheckFailed('no_cluster_available', 'No cluster of the catalog is absent and yours to deploy: name one with --cluster.');
}

/**
 * One node, with a destroy scheduled after the whole cycle could have ended: a doctor killed
 * outright (no cleanup) still leaves nothing running. An org member's `max_ttl` below that is used
 * instead.
 */
async function deploy(context: CommandContext, name: string, options: DeepOptions): Promise<Cluster> {
  const ttl = `${Math.ceil((2 * options.timeoutMs + options.runTimeoutMs) / 60_000) + 10}m`;
  try {
    return await context.client.clusters.deploy(name, { nodes: 1, ttl });
  } catch (error) {
    const maxTtl = error instanceof ProvisionerApiError ? error.details?.max_ttl : undefined;
    if (typeof maxTtl !== 'string') throw error;
    return context.client.clusters.deploy(name, { nodes: 1, ttl: maxTtl });
  }
}

async function destroy(context: CommandContext, name: string, leftovers: Leftovers, waitFor: (target: ClusterStatus) => Promise<Cluster>): Promise<Cluster> {
  const cluster = await context.client.clusters.destroy(name);
  const absent = cluster.status === 'absent' ? cluster : await waitFor('absent');
  leftovers.cluster = undefined;
  return absent;
}

/** Removes what the cycle left: cancels its run, destroys its cluster. Each is a step of the report; none stops the other. */
async function cleanUp(context: CommandContext, report: Report, leftovers: Leftovers, options: DeepOptions): Promise<void> {
  const { run, cluster } = leftovers;
  if (run) {
    await report
      .step(
        'cleanup-cancel-run',
        async () => {
          try {
            return await context.client.runs.cancel(run.id);
          } catch (error) {
            if (error instanceof ProvisionerApiError && error.code === 'run_finished') return run;
            throw error;
          }
        },
        () => `run ${run.id} cancelled`,
      )
      .catch(() => undefined);
  }
  if (cluster) {
    const waitFor = (target: ClusterStatus) =>
      context.client.clusters.waitFor(cluster, target, {
        timeoutMs: options.timeoutMs,
        intervalMs: options.intervalMs,
        onProgress: (c, elapsed) => context.out.progress(`${cluster}: ${c.status} (${Math.round(elapsed / 1000)} s)`),
      });
    await report.step('cleanup-destroy', () => destroy(context, cluster, leftovers, waitFor), () => `${cluster} absent`).catch(() => undefined);
  }
}

function duration(context: CommandContext, option: string, fallback: string): number {
  const text = optionString(context, option) ?? fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--${option} ${durationRule} (got ${text})`);
  return ms;
}

/** The options of --deep, read before anything is sent; refused without --deep. */
function deepOptions(context: CommandContext): DeepOptions | undefined {
  const deepOnly = ['cluster', 'skip-test', 'version', 'timeout', 'run-timeout'].filter((option) => context.options[option] !== undefined);
  if (!context.options.deep) {
    if (deepOnly.length > 0) throw new UsageError(`--${deepOnly[0]} needs --deep`);
    return undefined;
  }
  return {
    cluster: optionString(context, 'cluster'),
    skipTest: context.options['skip-test'] === true,
    version: optionString(context, 'version') ?? 'main',
    timeoutMs: duration(context, 'timeout', '10m'),
    runTimeoutMs: duration(context, 'run-timeout', '2h'),
    intervalMs: Number(process.env.PROVISIONER_POLL_MS ?? 2_000),
  };
}

/**
 * Ctrl-C (or SIGTERM) aborts `controller`: the checks stop and the cleanup runs. A second one
 * exits at once, saying what may be left. Returns the function that removes the handlers.
 */
function onInterrupt(context: CommandContext, controller: AbortController, leftovers: Leftovers): () => void {
  const handler = () => {
    if (!controller.signal.aborted) {
      context.out.line('Interrupted: cleaning up (Ctrl-C again to leave it).');
      controller.abort(new Interrupted());
      return;
    }
    const left = [leftovers.run && `run ${leftovers.run.id} (provisioner cancel-run ${leftovers.run.id})`, leftovers.cluster && `cluster ${leftovers.cluster} (provisioner destroy ${leftovers.cluster})`].filter(Boolean);
    context.out.line(left.length > 0 ? `Left behind: ${left.join(', ')}.` : 'Nothing left behind.');
    process.exit(interruptedExit);
  };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}

async function doctor(context: CommandContext): Promise<number> {
  if (context.args.length > 0) throw new UsageError(`unexpected ${context.args.join(' ')}`);
  const deep = deepOptions(context);
  const controller = new AbortController();
  const report = new Report(context);
  const leftovers: Leftovers = {};
  const removeHandlers = deep ? onInterrupt(context, controller, leftovers) : () => undefined;
  try {
    const basics = await basicChecks(context, report);
    if (deep) await clusterCycle(context, report, basics, deep, leftovers, controller.signal);
  } catch (error) {
    // Recorded by its step; anything else is the doctor's own bug, and shown as such.
    if (!report.failure) throw error;
  } finally {
    if (deep) await cleanUp(context, report, leftovers, deep);
    removeHandlers();
  }
  return finish(context, report, deep !== undefined, controller.signal.aborted);
}

function finish(context: CommandContext, report: Report, deep: boolean, interrupted: boolean): number {
  const { failure } = report;
  const document = { url: context.client.config.url, deep, ok: !failure, failed_step: failure?.step ?? null, interrupted, steps: report.steps };
  const failed = failure && errorOf(failure.error);
  context.out.result(document, failed ? `FAILED at ${failure.step}: ${failed.message} (${failed.code})` : `All ${report.steps.length} checks passed.`);
  if (interrupted) return interruptedExit;
  return failure ? exitCodeOf(failure.error) : exit.ok;
}

export const doctorCommands: Record<string, Command> = {
  doctor: {
    usage: 'doctor [--deep [--cluster C] [--skip-test | --version REF] [--timeout 10m] [--run-timeout 2h]]',
    summary: 'Check the API: health, keys, API document, login; --deep also deploys, accesses, tests and destroys a cluster (stops at the first failure)',
    options: { deep: { type: 'boolean' }, cluster: { type: 'string' }, 'skip-test': { type: 'boolean' }, version: { type: 'string' }, timeout: { type: 'string' }, 'run-timeout': { type: 'string' } },
    run: doctor,
  },
};
