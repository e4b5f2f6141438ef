declare module 's3rver' {
  import type { Server } from 'node:http';

  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    /** Where objects are kept on disk. */
    directory: string;
    configureBuckets?: { name: string; configs?: unknown[] }[];
  }

  /** An S3-compatible server (the subset the runs need: buckets, objects, presigned requests). */
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    readonly server?: Server;
  }
}
