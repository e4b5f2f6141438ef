/** The API's shapes, from the route table's own schemas (types only: no schema code reaches the page). */
import type * as z from '../../src/zod.js';
import type { adminOverview, apiToken, apiTokenCreated, cluster, clusterEvent, deviceCode, identity, loginResponse, run, workbench, workspace, clusterToken } from '../../src/api/schemas.js';

export type Cluster = z.output<ReturnType<typeof cluster>>;
export type ClusterEvent = z.output<ReturnType<typeof clusterEvent>>;
export type ClusterToken = z.output<ReturnType<typeof clusterToken>>;
export type DeviceCode = z.output<ReturnType<typeof deviceCode>>;
export type Identity = z.output<ReturnType<typeof identity>>;
export type LoginResult = z.output<ReturnType<typeof loginResponse>>;
export type Run = z.output<ReturnType<typeof run>>;
export type Workbench = z.output<ReturnType<typeof workbench>>;
export type Workspace = z.output<ReturnType<typeof workspace>>;
export type Level = Identity['level'];
export type ApiToken = z.output<ReturnType<typeof apiToken>>;
export type ApiTokenCreated = z.output<ReturnType<typeof apiTokenCreated>>;
export type AdminOverview = z.output<ReturnType<typeof adminOverview>>;
export interface Page<T> {
  items: T[];
  next_token?: string;
}
