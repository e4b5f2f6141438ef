/**
 * The small interfaces the domain needs. Adapters implement them (src/adapters/aws, src/adapters/local);
 * tests pass dynalite-backed or tiny fake ones.
 */
import type { IndexName } from './store/table.js';

export interface Key {
  pk: string;
  sk: string;
}

/** Every stored item: its key, an optimistic-lock version, and attributes. */
export interface StoredItem extends Key {
  version: number;
  gsi1pk?: string;
  gsi1sk?: string;
  /** Expiry in epoch seconds; an expired item reads as absent. */
  ttl?: number;
  [attribute: string]: unknown;
}

export type NewItem = Omit<StoredItem, 'version'>;

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface QueryOptions {
  /** Query the main table by `pk` (default) or a secondary index by its partition key. */
  index?: IndexName;
  partition: string;
  /** Only sort keys that start with this. */
  prefix?: string;
  limit: number;
  nextToken?: string;
  newestFirst?: boolean;
}

/** What a state transition expects to find; a mismatch means another request won. */
export interface Expected {
  version: number;
  status?: string;
}

export interface Store {
  get(key: Key): Promise<StoredItem | undefined>;
  /** Writes `item` (version 1) unless an unexpired item has its key; false when one does. */
  createIfAbsent(item: NewItem): Promise<boolean>;
  /**
   * One conditional write: applies `changes` (undefined removes an attribute) and bumps the version,
   * only if the item still has the expected version and status. Undefined when it lost the race.
   */
  transition(key: Key, expected: Expected, changes: Record<string, unknown>): Promise<StoredItem | undefined>;
  /** Deletes the item if it still has the expected version; false when it lost the race. */
  remove(key: Key, expected?: Expected): Promise<boolean>;
  query(options: QueryOptions): Promise<Page<StoredItem>>;
  /** Atomically adds `by` to the item's `count` (creating it with `ttl`); returns the new count. */
  increment(key: Key, by: number, ttl: number): Promise<number>;
}
