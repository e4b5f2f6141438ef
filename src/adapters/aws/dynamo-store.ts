import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { once } from '../../once.js';
import * as z from '../../zod.js';
import type { Clock } from '../../domain/clock.js';
import { ProvisionerError } from '../../domain/errors.js';
import { guarded } from './failures.js';
import type { Expected, Key, NewItem, Page, QueryOptions, Store, StoredItem } from '../../ports.js';
import { tableSchema } from '../../store/table.js';

const { partitionKey, sortKey, ttlAttribute } = tableSchema;

/** A page cursor is the last key read, base64url JSON; anything else is refused as bad input. */
const cursorSchema = once(() =>
  z
    .partialRecord(z.enum(['pk', 'sk', 'gsi1pk', 'gsi1sk']), z.string().check(z.maxLength(1024)))
    .check(z.refine((key) => key.pk !== undefined && key.sk !== undefined)),
);

/** The Store port on one DynamoDB table (dynalite locally and in tests): single conditional writes only. */
export class DynamoStore implements Store {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(key: Key): Promise<StoredItem | undefined> {
    const { Item } = await this.send(() => this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
    return this.live(Item as StoredItem | undefined);
  }

  async createIfAbsent(item: NewItem): Promise<boolean> {
    return this.conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, version: 1 },
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#pk': partitionKey, '#ttl': ttlAttribute },
          ExpressionAttributeValues: { ':now': this.nowSeconds() },
        }),
      ),
    );
  }

  async transition(key: Key, expected: Expected, changes: Record<string, unknown>): Promise<StoredItem | undefined> {
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': expected.version, ':one': 1 };
    const sets = ['#version = #version + :one'];
    const removes: string[] = [];
    Object.entries(changes).forEach(([attribute, value], i) => {
      if (attribute === 'version' || attribute === partitionKey || attribute === sortKey) return;
      names[`#a${i}`] = attribute;
      if (value === undefined) {
        removes.push(`#a${i}`);
      } else {
        values[`:v${i}`] = value;
        sets.push(`#a${i} = :v${i}`);
      }
    });
    let condition = '#version = :expected';
    if (expected.status !== undefined) {
      names['#status'] = 'status';
      values[':status'] = expected.status;
      condition += ' AND #status = :status';
    }
    let result: StoredItem | undefined;
    const won = await this.conditional(async () => {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      result = Attributes as StoredItem;
    });
    return won ? result : undefined;
  }

  async remove(key: Key, expected?: Expected): Promise<boolean> {
    return this.conditional(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ...(expected && {
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expected.version },
          }),
        }),
      ),
    );
  }

  async query(options: QueryOptions): Promise<Page<StoredItem>> {
    const { index, condition, names, values, sort } = this.keyCondition(options);
    const { Items = [], LastEvaluatedKey } = await this.send(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index?.name,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          Limit: options.limit,
          ScanIndexForward: !options.newestFirst,
          ExclusiveStartKey: options.nextToken === undefined ? undefined : decodeCursor(options.nextToken, { [index?.partitionKey ?? partitionKey]: options.partition }, sort),
        }),
      ),
    );
    // Expired items are dropped from the page; the page may then be short, never wrong.
    const items = (Items as StoredItem[]).filter((item) => this.live(item) !== undefined);
    return { items, ...(LastEvaluatedKey && { nextToken: encodeCursor(LastEvaluatedKey) }) };
  }

  async count(options: Omit<QueryOptions, 'limit' | 'nextToken' | 'newestFirst'>): Promise<number> {
    const { index, condition, names, values } = this.keyCondition(options);
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const answer = await this.send(() =>
        this.doc.send(
          new QueryCommand({ TableName: this.tableName, IndexName: index?.name, KeyConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values, Select: 'COUNT', ExclusiveStartKey: start }),
        ),
      );
      total += answer.Count ?? 0;
      start = answer.LastEvaluatedKey;
    } while (start);
    return total;
  }

  /** The key condition of a query: the partition, then a sort-key prefix, a prefix range, or a range. */
  private keyCondition(options: Omit<QueryOptions, 'limit' | 'nextToken' | 'newestFirst'>) {
    const index = options.index ? tableSchema.indexes.find((i) => i.name === options.index) : undefined;
    const skName = index?.sortKey ?? sortKey;
    const prefix = options.prefix !== undefined && options.prefix !== '';
    const through = prefix && options.through !== undefined;
    const { from, to } = prefix ? {} : (options.range ?? {});
    const sortCondition = through
      ? ' AND #sk BETWEEN :prefix AND :through'
      : prefix
        ? ' AND begins_with(#sk, :prefix)'
        : from !== undefined && to !== undefined
          ? ' AND #sk BETWEEN :from AND :to'
          : from !== undefined
            ? ' AND #sk >= :from'
            : to !== undefined
              ? ' AND #sk <= :to'
              : '';
    return {
      index,
      condition: `#pk = :pk${sortCondition}`,
      names: { '#pk': index?.partitionKey ?? partitionKey, ...(sortCondition && { '#sk': skName }) },
      values: {
        ':pk': options.partition,
        ...(prefix && { ':prefix': options.prefix }),
        ...(through && { ':through': options.through }),
        ...(from !== undefined && { ':from': from }),
        ...(to !== undefined && { ':to': to }),
      },
      sort: prefix ? { name: skName, prefix: options.prefix ?? '' } : undefined,
    };
  }

  async increment(key: Key, by: number, ttl: number): Promise<number> {
    const { Attributes } = await this.send(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD #count :by SET #ttl = if_not_exists(#ttl, :ttl), #version = if_not_exists(#version, :one)',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': ttlAttribute, '#version': 'version' },
          ExpressionAttributeValues: { ':by': by, ':ttl': ttl, ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return Number(Attributes?.count ?? 0);
  }

  async put(item: NewItem): Promise<void> {
    await this.send(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...item, version: 1 } })));
  }

  async claim(key: Key, member: string, max: number, at: Date): Promise<{ won: boolean; members: Record<string, string> }> {
    // Each member's claim time is a top-level attribute of its own (`claimed:<member>`), set in the same write.
    const names = { '#members': 'members', '#version': 'version', '#at': `claimed:${member}` };
    try {
      const { Attributes } = await this.send(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'ADD #members :member SET #version = if_not_exists(#version, :one), #at = :now',
            ConditionExpression: 'attribute_not_exists(#members) OR contains(#members, :name) OR size(#members) < :max',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':member': new Set([member]), ':name': member, ':max': max, ':one': 1, ':now': at.toISOString() },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { won: true, members: claimsOf(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { won: false, members: claimsOf(await this.get(key)) };
    }
  }

  async release(key: Key, member: string): Promise<void> {
    await this.send(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'DELETE #members :member REMOVE #at',
          ExpressionAttributeNames: { '#members': 'members', '#at': `claimed:${member}` },
          ExpressionAttributeValues: { ':member': new Set([member]) },
        }),
      ),
    );
  }

  private live(item: StoredItem | undefined): StoredItem | undefined {
    if (!item) return undefined;
    return typeof item.ttl === 'number' && item.ttl < this.nowSeconds() ? undefined : item;
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** Runs a conditional write: true when it applied, false when its condition failed. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.send(write);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Throttling, 5xx and network failures become a retryable 503; anything else is a bug and stays a 500. */
  private send<T>(call: () => Promise<T>): Promise<T> {
    return guarded('The state store', call);
  }
}

/** A slot item's members and when each was claimed. */
function claimsOf(item: Record<string, unknown> | undefined): Record<string, string> {
  const members = [...((item?.members as Set<string> | undefined) ?? [])];
  return Object.fromEntries(members.map((m) => [m, String(item?.[`claimed:${m}`] ?? '')]));
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * A cursor is bound to its list: one naming another partition, or a sort key outside the queried
 * prefix, is refused as bad input (DynamoDB would answer it with a ValidationException).
 */
function decodeCursor(token: string, partition: Record<string, string>, sort?: { name: string; prefix: string }): Record<string, string> {
  let key: Record<string, string> | undefined;
  try {
    key = cursorSchema().parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    key = undefined;
  }
  const [[name, value] = []] = Object.entries(partition);
  const inList = key !== undefined && name !== undefined && key[name] === value && (!sort || (key[sort.name] ?? '').startsWith(sort.prefix));
  if (!key || !inList) throw new ProvisionerError('invalid_next_token', 'next_token is not one this API issued for this list; start again without it.');
  return key;
}
