import type { Caller } from '../domain/levels.js';
import type { Log } from '../log.js';
import type { Store } from '../ports.js';
import { revocationKeys } from '../store/keys.js';

/** After a failed read, how soon the next request tries again. */
const retryMs = 5_000;

/** How old the list read may be before a request reads it again: revocation takes effect within this, everywhere. */
export const revocationRefreshMs = 60_000;

/**
 * The revoked API-token ids and logged-out JWT ids as this container knows them: the partition is read
 * with one Query (its pages) at most once per `revocationRefreshMs`, and what this container revokes
 * itself counts at once. Items leave the partition by their `ttl`, once no JWT they refuse can be valid,
 * so the list stays as short as the revocations of the last JWT lifetime.
 */
export class RevocationList {
  private revoked = new Set<string>();
  /** Revocations this container wrote, by when: kept beside the list until a read that started after them. */
  private readonly written = new Map<string, number>();
  private readAt: number | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly refreshMs = revocationRefreshMs,
  ) {}

  /**
   * Whether the session's JWT, or the API token it came from, was revoked. A failed read keeps the
   * list it has (retried after `retryMs`, logged); with none yet read, the failure is the answer.
   */
  async refuses(caller: Caller, now: Date, log: Log): Promise<boolean> {
    const session = caller.session;
    if (!session) return false;
    if (this.readAt === undefined || now.getTime() - this.readAt >= this.refreshMs) await this.refresh(now, log);
    const refused = (sortKey: string) => this.revoked.has(sortKey) || this.written.has(sortKey);
    return refused(revocationKeys.session(session.jti).sk) || (session.tokenId !== undefined && refused(revocationKeys.token(session.tokenId).sk));
  }

  /** Counts a revocation this container wrote at once, without waiting for the next read. */
  remember(sortKey: string, now: Date): void {
    this.written.set(sortKey, now.getTime());
  }

  /** One read at a time: requests arriving while it runs wait for it rather than reading again. */
  private refresh(now: Date, log: Log): Promise<void> {
    const startedAt = now.getTime();
    this.reading ??= this.readAll()
      .then(
        (revoked) => {
          this.revoked = revoked;
          this.readAt = startedAt;
          for (const [sortKey, at] of this.written) if (at < startedAt) this.written.delete(sortKey);
        },
        (error: unknown) => {
          if (this.readAt === undefined) throw error;
          log.warn('revocation list not read; using the last one', { error: (error as Error).message });
          this.readAt = startedAt - this.refreshMs + retryMs;
        },
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
  private async readAll(): Promise<Set<string>> {
    const revoked = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.store.query({ partition: revocationKeys.partition, limit: 1000, nextToken });
      for (const item of page.items) revoked.add(item.sk);
      nextToken = page.nextToken;
    } while (nextToken);
    return revoked;
  }
}

/** One list per store (a container has one; tests start several), kept as long as the store is. */
const lists = new WeakMap<Store, RevocationList>();

export function revocationListOf(store: Store): RevocationList {
  let list = lists.get(store);
  if (!list) lists.set(store, (list = new RevocationList(store)));
  return list;
}
