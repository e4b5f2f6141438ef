import { isIPv4, isIPv6 } from 'node:net';
import { type Catalog, rateLimitFor } from './catalog.js';
import type { Caller } from './levels.js';

/**
 * Fixed-window request limits from the catalog: anonymous callers per source network (/24 for
 * IPv4, /56 for IPv6, the seed's "region-based" limit), everyone else per user. Levels the catalog
 * sets no limit for (by default org members and administrators) are not limited.
 */
export interface RateWindow {
  /** Who is counted: `net:<network>` or `user:<sub>`. */
  subject: string;
  /** Which window: its index since the epoch. */
  index: number;
  limit: number;
  /** When the window ends (epoch seconds): the counter's TTL and the basis of Retry-After. */
  endsAt: number;
}

export function rateWindow(caller: Caller, sourceIp: string, catalog: Catalog, now: Date): RateWindow | undefined {
  const limit = rateLimitFor(catalog, caller.level);
  if (!limit) return undefined;
  const subject = caller.level === 'anonymous' ? `net:${networkOf(sourceIp)}` : `user:${caller.sub}`;
  const index = Math.floor(now.getTime() / limit.windowMs);
  return { subject, index, limit: limit.requests, endsAt: Math.ceil(((index + 1) * limit.windowMs) / 1000) };
}

/** The network a source address belongs to: a.b.c.0/24, or the first 56 bits of an IPv6 address. */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped?.[1] ?? ip;
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(address)) {
    const groups = expandIPv6(address);
    const prefix = groups.slice(0, 4).map((g, i) => (i === 3 ? (parseInt(g, 16) & 0xff00).toString(16) : parseInt(g, 16).toString(16)));
    return `${prefix.join(':')}::/56`;
  }
  return `unknown:${address}`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array.from({ length: missing }, () => '0'), ...right];
}
