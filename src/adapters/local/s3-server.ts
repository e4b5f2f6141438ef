import S3rver from 's3rver';
import { S3RunLogs } from '../aws/s3-run-logs.js';

export interface LocalS3 {
  endpoint: string;
  logs: S3RunLogs;
  close(): Promise<void>;
}

/** The local stand-in for the log bucket: s3rver in this process, with the real S3 client and presigner in front of it. */
export async function startLocalS3(directory: string, bucket: string): Promise<LocalS3> {
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const logs = new S3RunLogs(bucket, (sdk) => new sdk.S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }));
  return { endpoint, logs, close: () => server.close() };
}
