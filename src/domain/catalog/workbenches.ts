import { once } from '../../once.js';
import * as z from '../../zod.js';
import { levels } from '../levels.js';
import { duration, positive } from './fields.js';

const nonNegative = once(() => z.number().check(z.int(), z.gte(0)));
const arn = (service: string) => z.string().check(z.regex(new RegExp(`^arn:aws[a-z-]*:${service}:`), `must be an ${service} ARN`));

/** A capacity provider of the workbench cluster and the largest task it takes; `cost` orders them (cheapest first). */
const provider = once(() => z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS capacity provider name')),
  max_cpu: positive(),
  max_memory: positive(),
  max_gpu: z._default(nonNegative(), 0),
  /** Relative hourly cost; the cheapest provider that fits a request gets it. */
  cost: z.number().check(z.gte(0)),
}));

/** What a level may own: how many workbenches, and the largest size of each. */
const limit = once(() => z.strictObject({ count: nonNegative(), cpu: positive(), memory: positive(), gpu: z._default(nonNegative(), 0) }));

/** The AWS backend: a task definition run on the workbench cluster. The local runtime ignores it. */
const ecs = once(() => z.strictObject({
  cluster: arn('ecs'),
  /** The task-definition family (IAM allows RunTask of this family only). */
  task_definition: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a task-definition family name')),
  container: z.string().check(z.minLength(1)),
  /** Roles the task definition names (task role, execution role): the only ones the functions may pass. */
  task_roles: z.array(arn('iam')).check(z.minLength(1)),
  subnets: z._default(z.array(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id'))), []),
  security_groups: z._default(z.array(z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'must be a security group id'))), []),
  /** Where the task mounts the shared file system (EFS); each workbench keeps its data under `<data_root>/<id>`. */
  data_root: z._default(z.string().check(z.regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path')), '/mnt/workbenches'),
  /** Launch template of dedicated instances (`dedicated_instance: true`); none means they are refused. */
  dedicated_launch_template: z.optional(z.string().check(z.regex(/^lt-[0-9a-f]{8,17}$/, 'must be a launch template id (lt-...)'))),
  /** The role(s) of the launch template's instance profile: the only ones the functions may pass to EC2. */
  dedicated_instance_roles: z._default(z.array(arn('iam')), []),
}));

/** The local backend: the command each workbench runs (default: the example workbench server). */
const local = once(() => z.strictObject({ command: z.optional(z.array(z.string()).check(z.minLength(1))) }));

const defaults = {
  providers: [{ name: 'default', max_cpu: 4096, max_memory: 16384, max_gpu: 0, cost: 1 }],
  limits: { github_member: { count: 1, cpu: 1024, memory: 4096, gpu: 0 }, org_member: { count: 3, cpu: 4096, memory: 16384, gpu: 1 } },
  max_runtime: '12h',
  endpoint: 'https://workbench.example.com/project/{owner}/{id}',
  local: {},
};

/**
 * The workbenches' section (optional: a catalog without it gets small defaults): capacity
 * providers, per-level limits, the auto-stop runtime, the public endpoint template
 * (`{owner}`, `{id}`, `{name}`) and the backends.
 */
export const workbenchesSection = once(() => ({
  workbenches: z._default(
    z.strictObject({
      providers: z._default(z.array(provider()).check(z.minLength(1)), defaults.providers),
      /** Per level; a level without an entry (and above the highest one given, administrators) has no limits. */
      limits: z._default(z.partialRecord(z.enum(levels), limit()), defaults.limits),
      max_runtime: z._default(duration(), defaults.max_runtime),
      endpoint: z._default(z.string().check(z.regex(/^https?:\/\/\S+$/, 'must be an http(s) URL template')), defaults.endpoint),
      ecs: z.optional(ecs()),
      local: z._default(local(), defaults.local),
    }),
    defaults,
  ),
}));
