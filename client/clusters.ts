import { decodeProtectedHeader } from 'jose';
import { createCall } from './call.js';
import { ProvisionerApiError, type Session, sleep } from './session.js';
import { cacheKey, type ClusterTokenCache, memoryTokenCache } from './token-cache.js';
import type { Cluster, ClusterEvent, ClusterStatus, ClusterToken, OperationInput, Page, PageOptions } from './types.js';
import { allPages, pageQuery } from './types.js';

export interface WaitOptions {
  /** Give up after this long (default 10 minutes, the API's own bound). */
  timeoutMs?: number;
  intervalMs?: number;
  /** Called after each poll. */
  onProgress?: (cluster: Cluster, elapsedMs: number) => void;
}

/** Re-issue a cached cluster JWT this long before it expires. */
const reuseMarginMs = 60_000;

/** How long the API's published key ids are trusted before a cached cluster JWT is checked against them again. */
const keyIdsTtlMs = 60_000;

export interface ClustersServiceOptions {
  now?: () => number;
  /** Where cluster JWTs are kept (default: memory). */
  cache?: ClusterTokenCache;
  /** The caller's user JWT, for the cache key (default: anonymous). */
  userToken?: () => Promise<string | undefined>;
  url?: string;
}

type DeployOptions = NonNullable<OperationInput<'deploy'>['body']>;

/** `clusters`: the cluster operations, one method each over the route table, returning the API's plain objects. */
export function clustersService(session: Session, options: ClustersServiceOptions = {}) {
  const now = options.now ?? Date.now;
  const cache = options.cache ?? memoryTokenCache();
  const call = createCall(session);
  const params = (name: string) => ({ cluster: name });

  let keyIds: { at: number; ids: Set<string> } | undefined;
  /** Whether the API still publishes the key that signed `token` (the JWKS read at most once a minute). */
  const stillSigned = async (token: string): Promise<boolean> => {
    if (!keyIds || now() - keyIds.at >= keyIdsTtlMs) {
      const { keys } = await call('jwks');
      keyIds = { at: now(), ids: new Set(keys.flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : []))) };
    }
    const { kid } = decodeProtectedHeader(token);
    return kid !== undefined && keyIds.ids.has(kid);
  };

  const service = {
    list: (options: PageOptions = {}): Promise<Page<Cluster>> => call('list-clusters', { query: pageQuery(options) }),

    /** Every cluster the caller may see, across pages. */
    all: (): AsyncGenerator<Cluster> => allPages(service.list),

    get: (name: string): Promise<Cluster> => call('get-cluster', { params: params(name) }),
    deploy: (name: string, options: DeployOptions = {}): Promise<Cluster> => call('deploy', { params: params(name), body: options }),
    scheduleDestroy: (name: string, when: { at: string } | { in: string }): Promise<Cluster> => call('schedule-destroy', { params: params(name), body: when }),
    cancelDestroy: (name: string): Promise<Cluster> => call('cancel-destroy', { params: params(name) }),
    destroy: (name: string): Promise<Cluster> => call('destroy', { params: params(name) }),
    events: (name: string, options: PageOptions = {}): Promise<Page<ClusterEvent>> => call('cluster-events', { params: params(name), query: pageQuery(options) }),

    /**
     * A cluster JWT, cached until a minute before it expires: the call client libraries make all day.
     * A cached one is given only while the API still publishes its key: after two key rotations or a
     * wiped server, clusters refuse it.
     */
    async access(name: string): Promise<ClusterToken> {
      const key = cacheKey(options.url ?? '', await options.userToken?.(), name);
      const cached = cache.get(key);
      if (cached && Date.parse(cached.expires_at) - now() > reuseMarginMs && (await stillSigned(cached.token))) return cached;
      const value = await call('access', { params: params(name) });
      // Keyed by the user JWT after the call: the API may have refused the one before, and it was renewed.
      cache.set(cacheKey(options.url ?? '', await options.userToken?.(), name), value);
      return value;
    },

    /**
     * Polls until the cluster reaches `target`; throws when it fails (status `failed`, or `degraded`
     * while waiting for `running`: code `operation_failed`) or the time runs out (code `timeout`).
     */
    async waitFor(name: string, target: ClusterStatus, options: WaitOptions = {}): Promise<Cluster> {
      const started = now();
      const timeoutMs = options.timeoutMs ?? 600_000;
      for (;;) {
        const cluster = await service.get(name);
        const elapsed = now() - started;
        options.onProgress?.(cluster, elapsed);
        if (cluster.status === target) return cluster;
        if (cluster.status === 'failed') throw new ProvisionerApiError(0, 'operation_failed', `${name} failed: ${cluster.reason ?? 'no reason given'}.`, { cluster });
        // A degraded cluster does not recover by itself: a DEPLOY repairs it.
        if (cluster.status === 'degraded' && target === 'running') {
          throw new ProvisionerApiError(0, 'operation_failed', `${name} is degraded: ${cluster.reason ?? 'a node was lost'}; deploy it again to repair it.`, { cluster });
        }
        if (elapsed >= timeoutMs) {
          // A destroy the backend keeps refusing stays destroying: the reason is what the caller can act on.
          const why = cluster.reason ? `: ${cluster.reason}` : '';
          throw new ProvisionerApiError(0, 'timeout', `${name} is still ${cluster.status} after ${Math.round(elapsed / 1000)} s${why}.`, { cluster });
        }
        await sleep(Math.min(options.intervalMs ?? 2_000, Math.max(0, timeoutMs - elapsed)));
      }
    },
  };
  return service;
}
