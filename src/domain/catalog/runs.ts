import { once } from '../../once.js';
import * as z from '../../zod.js';
import { parseDuration } from '../duration.js';
import { ProvisionerError } from '../errors.js';
import { runKinds, type RunKind } from '../runs.js';
import { duration, positive, resourceName } from './fields.js';

/** A step's name: it names the step in logs, `result.json` and the API (and a shell variable suffix). */
const stepName = once(() => z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be 1-40 of a-z, 0-9 and -, starting with a letter')));

const step = once(() => z.strictObject({
  name: stepName(),
  /** A bash command, run in the run's work dir (or, with `image`, in that container with the work dir mounted). */
  run: z.string().check(z.minLength(1), z.maxLength(4000)),
  image: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9._\-/:@]{0,254}$/, 'must be a container image reference'))),
}));

const plan = once(() => z.strictObject({
  kind: z.enum(runKinds),
  /**
   * What the steps clone (as `$RUN_REPOSITORY`): an https or ssh git URL, or `fixture:<name>`, a
   * small repository the local runner makes from `local/fixtures/<name>/` (offline demos and tests).
   */
  repository: z.string().check(z.regex(/^(https:\/\/[^\s'"]+|git@[^\s'"]+|fixture:[a-z0-9-]+)$/, 'must be an https:// or git@ URL, or fixture:<name>')),
  steps: z.array(step()).check(
    z.minLength(1),
    z.refine((steps) => new Set(steps.map((s) => s.name)).size === steps.length, { message: 'step names must be unique within a plan' }),
  ),
  instance_type: z.optional(z.string().check(z.regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'must be an EC2 instance type'))),
  time_limit: z.optional(duration()),
}));

const planChoice = once(() => z.strictObject({ test: z.optional(resourceName()), release: z.optional(resourceName()) }));

const runsConfig = once(() => z
  .strictObject({
    /** Default time limit of a run; the machine is terminated then and the run is timed_out. */
    time_limit: z._default(duration(), '2h'),
    instance_type: z._default(z.string(), 'm6i.large'),
    /** The public SSM parameter naming the AMI (an AWS-provided image). */
    ami_parameter: z._default(z.string().check(z.regex(/^\/aws\/service\/[A-Za-z0-9_./-]+$/, 'must be a public /aws/service/... SSM parameter')), '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'),
    /** The runner's root volume (GB): encrypted gp3, deleted with the machine. */
    volume_gb: z._default(positive(), 100),
    /**
     * ECR repositories (names in this account and region) that run instances may push images to,
     * with `aws ecr get-login-password`; none by default. TEST and RELEASE share the runner role.
     */
    push_repositories: z._default(
      z.array(z.string().check(z.regex(/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must be an ECR repository name'), z.maxLength(256))),
      [],
    ),
    /** Logs and results are deleted from the bucket after this many days. */
    log_expiry_days: z._default(positive(), 90),
    plans: z.record(resourceName(), plan()),
    /** The plan of each kind, and per cluster overrides. */
    test: resourceName(),
    release: resourceName(),
    clusters: z._default(z.record(resourceName(), planChoice()), {}),
  })
  .check(
    z.refine(
      (runs) => {
        const named = [{ kind: 'test', name: runs.test }, { kind: 'release', name: runs.release }].concat(
          Object.values(runs.clusters).flatMap((c) => runKinds.flatMap((kind) => (c[kind] ? [{ kind, name: c[kind] }] : []))),
        );
        return named.every(({ kind, name }) => runs.plans[name]?.kind === kind);
      },
      { message: 'test, release and clusters.* must name plans of that kind' },
    ),
  ));

/** The runs' section: optional, so a catalog without it has no TEST or RELEASE. */
export const runsSection = once(() => ({ runs: z.optional(runsConfig()) }));

export type RunsConfig = z.output<ReturnType<typeof runsConfig>>;
export type RunPlan = RunsConfig['plans'][string];
export type RunStep = RunPlan['steps'][number];

/** What a run of a kind on a cluster does, with its limits resolved. */
export interface ResolvedPlan {
  name: string;
  plan: RunPlan;
  timeLimitMs: number;
  instanceType: string;
  amiParameter: string;
  volumeGb: number;
}

/** The plan for a kind on a cluster: the cluster's override or the catalog's default. */
export function planFor(runs: RunsConfig | undefined, kind: RunKind, cluster: string): ResolvedPlan {
  if (!runs) throw new ProvisionerError('runs_not_configured', 'This catalog declares no run plans (its runs section).');
  const name = runs.clusters[cluster]?.[kind] ?? runs[kind];
  const plan = runs.plans[name];
  if (!plan) throw new ProvisionerError('runs_not_configured', `The catalog names no ${kind} plan ${name}.`);
  return {
    name,
    plan,
    timeLimitMs: parseDuration(plan.time_limit ?? runs.time_limit) ?? 2 * 3_600_000,
    instanceType: plan.instance_type ?? runs.instance_type,
    amiParameter: runs.ami_parameter,
    volumeGb: runs.volume_gb,
  };
}
