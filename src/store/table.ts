/**
 * The single table's schema: one definition, read by the CDK construct, the local runtime's table
 * bootstrap and the store adapter.
 */
export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Lists by owner or kind: `gsi1pk` = the list, `gsi1sk` = the order within it. */
  indexes: [
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /**
     * Entity heads by status, for operators: `gsi2pk` = `<kind>#<status>`, `gsi2sk` = `<since>#<id>`
     * (when the entity entered that status), set by every change of status (src/store/entity.ts).
     */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
  /** Epoch seconds; DynamoDB deletes late, so reads also filter on it. */
  ttlAttribute: 'ttl',
} as const;

export type IndexName = (typeof tableSchema.indexes)[number]['name'];
