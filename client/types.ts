/** The API's shapes, typed from the route table's schemas (type-only: no zod at run time). */
import type { cluster, clusterEvent, clusterToken, identity } from '../src/api/schemas.js';
import type * as z from '../src/zod.js';

export type Cluster = z.output<typeof cluster>;
export type ClusterStatus = Cluster['status'];
export type ClusterEvent = z.output<typeof clusterEvent>;
export type ClusterToken = z.output<typeof clusterToken>;
export type Identity = z.output<typeof identity>;

export interface Page<T> {
  items: T[];
  next_token?: string;
}

export interface PageOptions {
  limit?: number;
  nextToken?: string;
}
