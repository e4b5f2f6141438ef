/** The API's shapes, from the route table's own schemas (types only: no schema code reaches the page). */
import type * as z from '../../src/zod.js';
import type { cluster, clusterEvent, deviceCode, identity, loginResponse, run, workbench, workspace, clusterToken } from '../../src/api/schemas.js';

export type Cluster = z.output<typeof cluster>;
export type ClusterEvent = z.output<typeof clusterEvent>;
export type ClusterToken = z.output<typeof clusterToken>;
export type DeviceCode = z.output<typeof deviceCode>;
export type Identity = z.output<typeof identity>;
export type LoginResult = z.output<typeof loginResponse>;
export type Run = z.output<typeof run>;
export type Workbench = z.output<typeof workbench>;
export type Workspace = z.output<typeof workspace>;
export type Level = Identity['level'];
export interface Page<T> {
  items: T[];
  next_token?: string;
}
