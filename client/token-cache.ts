import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writePrivateFile } from './private-file.js';
import { join } from 'node:path';
import type { ClusterToken } from './types.js';

/** Where cluster JWTs are kept between calls; keyed by API, caller and cluster. */
export interface ClusterTokenCache {
  get(key: string): ClusterToken | undefined;
  set(key: string, token: ClusterToken): void;
  /** Drops every token of one API, whoever the caller: used once the API refuses a token it signed, as its keys changed. */
  forget(url: string): void;
}

const ofApi = (key: string, url: string) => key.startsWith(`${url}|`);

/** The cache key: the API, a hash of the caller's user JWT (never the JWT itself), the cluster. */
export function cacheKey(url: string, userToken: string | undefined, cluster: string): string {
  const caller = userToken ? createHash('sha256').update(userToken).digest('hex').slice(0, 32) : 'anonymous';
  return `${url}|${caller}|${cluster}`;
}

/**
 * A 0600 JSON file in the cache dir, so that one-shot processes (the CLI in a Makefile loop) reuse
 * a cluster JWT as a long-lived client does. Expired entries are dropped on write.
 */
export function fileTokenCache(dir: string, now: () => number = Date.now): ClusterTokenCache {
  const file = join(dir, 'cluster-tokens.json');
  const read = (): Record<string, ClusterToken> => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, ClusterToken>;
    } catch {
      return {};
    }
  };
  const write = (tokens: Record<string, ClusterToken>) => {
    writePrivateFile(file, JSON.stringify(tokens));
  };
  return {
    get: (key) => read()[key],
    set(key, token) {
      const live = Object.fromEntries(Object.entries(read()).filter(([, t]) => Date.parse(t.expires_at) > now()));
      write({ ...live, [key]: token });
    },
    forget(url) {
      write(Object.fromEntries(Object.entries(read()).filter(([key]) => !ofApi(key, url))));
    },
  };
}

export function memoryTokenCache(): ClusterTokenCache {
  const tokens = new Map<string, ClusterToken>();
  return {
    get: (key) => tokens.get(key),
    set: (key, token) => void tokens.set(key, token),
    forget(url) {
      for (const key of [...tokens.keys()]) if (ofApi(key, url)) tokens.delete(key);
    },
  };
}
