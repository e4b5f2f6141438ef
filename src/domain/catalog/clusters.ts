import { once } from '../../once.js';
import * as z from '../../zod.js';
import { defaultRules, visibilities } from '../clusters.js';
import { parseDuration } from '../duration.js';
import { duration, githubName, positive, resourceName } from './fields.js';

const backend = once(() => z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    /** The command each node runs (default: the example cluster server shipped in the repo). */
    command: z.optional(z.array(z.string()).check(z.minLength(1))),
  }),
  z.strictObject({
    kind: z.literal('ec2'),
    launch_template: z.string().check(z.regex(/^lt-[0-9a-f]{8,17}$/, 'must be a launch template id (lt-...)')),
    instance_type: z.optional(z.string()),
    /**
     * The IAM roles of the instance profile(s) the launch template names (a role name, with its path
     * if it has one): deploy may pass exactly these to EC2. Without them, a launch template with an
     * instance profile is refused by EC2 (no iam:PassRole).
     */
    instance_roles: z.optional(z.array(z.string().check(z.regex(/^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/, 'must be an IAM role name (with its path, e.g. nodes/sliderule-node)'))).check(z.minLength(1))),
    /** Where DEPLOY's `version` goes; without it the version is only a tag on the instances. */
    version: z.optional(
      z.discriminatedUnion('kind', [
        // The launch template's version: a number, `latest` ($Latest) or `default` ($Default).
        z.strictObject({ kind: z.literal('launch_template_version') }),
        // The AMI is the value of this SSM parameter, `{version}` replaced (e.g. /sliderule/ami/{version}).
        z.strictObject({ kind: z.literal('ami_parameter'), name: z.string().check(z.regex(/^\/[A-Za-z0-9_./-]*\{version\}[A-Za-z0-9_./-]*$/, 'must be an SSM parameter path containing {version}')) }),
        // The instances' user data, `{version}` replaced (it replaces the launch template's user data).
        z.strictObject({ kind: z.literal('user_data'), template: z.string().check(z.includes('{version}', { message: 'must contain {version}' }), z.maxLength(12_000)) }),
      ]),
    ),
  }),
]));

const cluster = once(() => z.strictObject({
  name: resourceName(),
  visibility: z.enum(visibilities),
  /** The organization whose members may use it when private (default: the catalog's). */
  org: z.optional(githubName()),
  max_nodes: z.optional(positive()),
  backend: backend(),
}));

/** The clusters' section: the clusters and their backends, and what an org member may deploy. */
export const clustersSection = once(() => ({
  clusters: z.array(cluster()).check(
    z.refine((clusters) => new Set(clusters.map((c) => c.name)).size === clusters.length, { message: 'cluster names must be unique' }),
  ),
  limits: z._default(
    z.strictObject({
      org_member: z.optional(
        z.strictObject({
          max_nodes: z.optional(positive()),
          // Every org member's deployment gets a destroy schedule this far out: it must be one the scheduler accepts.
          max_ttl: z.optional(duration().check(z.refine((text) => (parseDuration(text) ?? 0) <= defaultRules.maxScheduleAheadMs, { message: 'must be at most 30d, the furthest a destroy can be scheduled' }))),
          max_deployments: z.optional(positive()),
        }),
      ),
    }),
    {},
  ),
}));
