import { once } from '../../once.js';
import * as z from '../../zod.js';
import { levels } from '../levels.js';
import { duration, positive } from './fields.js';

/** A component version or a values key, as the catalog and the API spell them. */
export const versionPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const versionRule = 'must be a version (letters, digits, . _ + -)';
/** Dotted paths of camelCase segments (`pachd.logLevel`): each maps to one environment variable. */
export const valueKeyPattern = /^[A-Za-z][A-Za-z0-9]{0,62}(\.[A-Za-z][A-Za-z0-9]{0,62}){0,7}$/;
export const valueKeyRule = 'must be a dotted path of letters and digits such as "pachd.logLevel"';

const version = once(() => z.string().check(z.regex(versionPattern, versionRule)));
const valueKey = once(() => z.string().check(z.regex(valueKeyPattern, valueKeyRule)));
/** A value of the template or an override: a scalar, as an environment variable carries it. */
export const workspaceValue = once(() => z.union([z.string().check(z.maxLength(4096)), z.number(), z.boolean()]));

const component = once(() => z.strictObject({
  /** The version used when a request names none. */
  default: version(),
  /** The container image the version tags; none for a component that is not a container (the helm chart). */
  image: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9./_:-]{0,254}$/, 'must be an image name without a tag'))),
}));

const backend = once(() => z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    /** The command each workspace runs (default: the example workspace server shipped in the repo). */
    command: z.optional(z.array(z.string()).check(z.minLength(1))),
  }),
  z.strictObject({
    kind: z.literal('ecs'),
    subnets: z.array(z.string().check(z.regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id'))).check(z.minLength(1)),
    security_groups: z.array(z.string().check(z.regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id'))).check(z.minLength(1)),
    /** The task execution role (pulls images, writes logs); the deploying functions may pass only this one. */
    execution_role_arn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'))),
    cpu: z._default(z.string().check(z.regex(/^\d+$/)), '1024'),
    memory: z._default(z.string().check(z.regex(/^\d+$/)), '2048'),
    /** The port the first container serves on: `{port}` in the endpoint templates. */
    port: z._default(positive(), 30650),
    assign_public_ip: z._default(z.boolean(), false),
  }),
]));

/** The seed's components, each with its default version. */
const defaultComponents = {
  pachd: { default: '2.5.2', image: 'pachyderm/pachd' },
  console: { default: '2.5.2-1', image: 'pachyderm/haberdashery' },
  notebooks: { default: '0.6.4', image: 'pachyderm/notebooks-user' },
  helm: { default: '2.5.2' },
};

const defaultEndpoints = {
  console: 'http://{host}:{port}/console',
  notebooks: 'http://{host}:{port}/notebooks',
  connection: 'grpc://{host}:{port}',
};

const template = once(() => z.strictObject({
  components: z.prefault(z.record(z.string().check(z.regex(/^[a-z][a-z0-9]{0,30}$/, 'must be a component name')), component()), defaultComponents),
  /** Values every workspace gets unless its request overrides them. */
  values: z._default(
    z.record(valueKey(), workspaceValue()).check(
      // Each key becomes one upper-cased variable (`PROVISIONER_VALUE_PACHD_LOGLEVEL`): keys differing only by case would be one.
      z.refine((values) => new Set(Object.keys(values).map((key) => key.toUpperCase())).size === Object.keys(values).length, { message: 'keys must differ by more than case' }),
    ),
    {},
  ),
  /** Keys (and everything under them) that requests may not set: the operator's, besides Provisioner's own. */
  controlled: z._default(z.array(valueKey()), []),
  /** What `endpoints` shows once ready; `{host}`, `{port}`, `{id}` and `{name}` are filled in. */
  endpoints: z._default(z.record(z.string().check(z.regex(/^[a-z][a-z0-9_]{0,30}$/)), z.string().check(z.minLength(1))), defaultEndpoints),
}));

/** How many workspaces a caller of each level may have at once, unless the catalog says otherwise. */
const defaultLimits = { github_member: { count: 1 }, org_member: { count: 10 } };

/**
 * The workspaces' section, optional: a catalog without it gets the seed's defaults (2 days, at
 * most 90, the seed's components, local processes).
 */
export const workspacesSection = once(() => ({
  workspaces: z.prefault(
    z.strictObject({
      default_expiry: z._default(duration(), '2d'),
      max_expiry: z._default(duration(), '90d'),
      /** A workspace that failed to become ready is deleted this long after it failed. */
      failed_ttl: z._default(duration(), '1h'),
      /** The `workspace.expiring` event is recorded this long before the expiry. */
      expiring_notice: z._default(duration(), '1h'),
      /** A workspace not ready this long after its creation has failed. */
      create_timeout: z._default(duration(), '10m'),
      /** Per level, the workspaces one caller may have at once (until deleted); a level without an entry has no limit. */
      limits: z._default(z.partialRecord(z.enum(levels), z.strictObject({ count: positive() })), defaultLimits),
      template: z.prefault(template(), {}),
      backend: z._default(backend(), { kind: 'local' }),
    }),
    {},
  ),
}));
