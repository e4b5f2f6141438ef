import { once } from '../once.js';
import * as z from '../zod.js';
import { clustersSection } from './catalog/clusters.js';
import { identitySection } from './catalog/identity.js';
// workspaces
import { workspacesSection } from './catalog/workspaces.js';
// workbenches
import { workbenchesSection } from './catalog/workbenches.js';
// runs
import { runsSection } from './catalog/runs.js';
// notifications
import { notificationsSection } from './catalog/notifications.js';
// tokens
import { tokensSection } from './catalog/tokens.js';
import { parseDuration } from './duration.js';
import type { levels } from './levels.js';

/**
 * The catalog: one JSON file, validated when first read, made of one section per area (identity,
 * clusters; runs, workbenches and workspaces add theirs). A section is a set of top-level fields
 * declared beside its area in `catalog/<area>.ts`.
 */
export const catalogSchema = once(() =>
  z.strictObject({
    ...identitySection(),
    ...clustersSection(),
    // workspaces
    ...workspacesSection(),
    // workbenches
    ...workbenchesSection(),
    // runs
    ...runsSection(),
    // notifications
    ...notificationsSection(),
    // tokens
    ...tokensSection(),
  }),
);

export type Catalog = z.output<ReturnType<typeof catalogSchema>>;
export type ClusterEntry = Catalog['clusters'][number];
// workspaces
export type WorkspacesCatalog = Catalog['workspaces'];

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
  const result = catalogSchema().safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new CatalogError(`${source} is not a valid catalog: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Marks the form of the catalog the stack ships inside each function. */
const shippedFormat = 'provisioner-catalog/validated-1';

/**
 * The catalog as the stack ships it inside each function: validated at synth (a bad one fails the
 * synth, naming the field), its defaults filled in. Lambda reads it back without building the
 * catalog's schemas, which took ≈20 ms of a container's first request (issue 9).
 */
export function shipCatalog(catalog: Catalog): string {
  return JSON.stringify({ format: shippedFormat, catalog });
}

/** Reads what `shipCatalog` wrote; anything else, such as a raw catalog file, is refused by name. */
export function readShippedCatalog(text: string, source: string): Catalog {
  let shipped: { format?: unknown; catalog?: Catalog } | null;
  try {
    shipped = JSON.parse(text) as typeof shipped;
  } catch (error) {
    throw new CatalogError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (shipped?.format !== shippedFormat || typeof shipped.catalog !== 'object') {
    throw new CatalogError(`${source} is not a catalog the stack validated (format ${shippedFormat}): ship it with the stack, not by hand.`);
  }
  return shipped.catalog;
}

/** A catalog's rate limit for a level, in requests per window of `windowMs`. */
export function rateLimitFor(catalog: Catalog, level: (typeof levels)[number]): { requests: number; windowMs: number } | undefined {
  const limit = catalog.rate_limits[level];
  if (!limit) return undefined;
  return { requests: limit.requests, windowMs: parseDuration(limit.per) ?? 60_000 };
}
