import * as z from '../zod.js';
import { durationPattern, parseDuration } from './duration.js';
import { levels } from './levels.js';

/**
 * The catalog: the organization, who administers, the clusters and their backends, limits, and which
 * GitHub Actions workflows may log in. One JSON file, validated at start-up.
 */
const name = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 lowercase letters, digits or dashes'));
const githubName = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a GitHub login, organization or team slug'));
const duration = z.string().check(z.regex(durationPattern, 'must be a duration such as "90m", "12h" or "2d"'));
const positive = z.number().check(z.int(), z.gte(1));

const backend = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    /** The command each node runs (default: the example cluster server shipped in the repo). */
    command: z.optional(z.array(z.string()).check(z.minLength(1))),
  }),
  z.strictObject({
    kind: z.literal('ec2'),
    launch_template: z.string().check(z.regex(/^lt-[0-9a-f]{8,17}$/, 'must be a launch template id (lt-...)')),
    instance_type: z.optional(z.string()),
  }),
]);

const cluster = z.strictObject({
  name,
  visibility: z.enum(['public', 'private']),
  /** The organization whose members may use it when private (default: the catalog's). */
  org: z.optional(githubName),
  max_nodes: z.optional(positive),
  backend,
});

const rateLimit = z.strictObject({ requests: positive, per: duration });

export const catalogSchema = z
  .strictObject({
    organization: githubName,
    admin_team: z.optional(githubName),
    admins: z._default(z.array(githubName), []),
    limits: z._default(
      z.strictObject({
        org_member: z.optional(z.strictObject({ max_nodes: z.optional(positive), max_ttl: z.optional(duration), max_deployments: z.optional(positive) })),
      }),
      {},
    ),
    rate_limits: z._default(z.partialRecord(z.enum(levels), rateLimit), {}),
    clusters: z.array(cluster),
    actions: z._default(
      z.array(
        z.strictObject({
          repository: z.string().check(z.regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/repo')),
          ref: z.string().check(z.regex(/^refs\/(heads|tags)\/\S+$/, 'must be a full ref such as refs/heads/main')),
          level: z.enum(levels),
        }),
      ),
      [],
    ),
  })
  .check(
    z.refine((catalog) => new Set(catalog.clusters.map((c) => c.name)).size === catalog.clusters.length, {
      message: 'cluster names must be unique',
      path: ['clusters'],
    }),
  );

export type Catalog = z.output<typeof catalogSchema>;
export type ClusterEntry = Catalog['clusters'][number];

export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

/** Validates a catalog; the error names the source and every bad field. */
export function parseCatalog(text: string, source: string): Catalog {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CatalogError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const result = catalogSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new CatalogError(`${source} is not a valid catalog: ${problems.join('; ')}`);
  }
  return result.data;
}

export function findCluster(catalog: Catalog, clusterName: string): ClusterEntry | undefined {
  return catalog.clusters.find((c) => c.name === clusterName);
}

/** A catalog's rate limit for a level, in requests per window of `windowMs`. */
export function rateLimitFor(catalog: Catalog, level: (typeof levels)[number]): { requests: number; windowMs: number } | undefined {
  const limit = catalog.rate_limits[level];
  if (!limit) return undefined;
  return { requests: limit.requests, windowMs: parseDuration(limit.per) ?? 60_000 };
}
