import type * as S3Module from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { RunLogs } from '../../ports.js';
import { guarded } from './failures.js';

type S3Sdk = typeof S3Module;

const s3Call = <T>(call: () => Promise<T>) => guarded('S3', call);

/** The one S3 client configuration the local runtime changes: endpoint, path style, fixed credentials. */
export type S3ClientFactory = (sdk: S3Sdk) => S3Client;

/**
 * Run logs and results in the log bucket, through `@aws-sdk/client-s3` and its presigner, in AWS
 * and against the local S3 server alike. Every call is `guarded` (a transient failure is 503
 * `dependency_unavailable`). The modules are imported on first use.
 */
export class S3RunLogs implements RunLogs {
  private loaded?: Promise<{ sdk: S3Sdk; client: S3Client; presign: typeof getSignedUrl }>;

  constructor(
    private readonly bucket: string,
    private readonly makeClient: S3ClientFactory = (sdk) => new sdk.S3Client({}),
  ) {}

  private s3() {
    this.loaded ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]).then(([sdk, presigner]) => ({
      sdk,
      client: this.makeClient(sdk),
      presign: presigner.getSignedUrl,
    }));
    return this.loaded;
  }

  async put(key: string, body: string | Uint8Array, contentType = 'text/plain; charset=utf-8'): Promise<void> {
    const { sdk, client } = await this.s3();
    await s3Call(() => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType })));
  }

  async get(key: string): Promise<string | undefined> {
    const { sdk, client } = await this.s3();
    try {
      return await s3Call(async () => {
        const object = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return await object.Body?.transformToString('utf8');
      });
    } catch (error) {
      if (error instanceof sdk.NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async presignGet(key: string, seconds: number): Promise<string> {
    const { sdk, client, presign } = await this.s3();
    // Signing reads the credentials, which may be fetched.
    return s3Call(() => presign(client, new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentType: 'text/plain; charset=utf-8' }), { expiresIn: seconds }));
  }
}

