// The reference cold start: the DynamoDB document client and jose's jwtVerify, bundled whole by
// esbuild with plain flags (see bench/run.ts). About the least an authenticated handler on DynamoDB
// loads; every function's module init is measured against it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createLocalJWKSet, jwtVerify } from 'jose';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  const { payload } = await jwtVerify(event.token, createLocalJWKSet(event.jwks), { algorithms: ['ES256'] });
  return documents.send(new GetCommand({ TableName: process.env.TABLE, Key: { pk: payload.sub, sk: 'user' } }));
};
