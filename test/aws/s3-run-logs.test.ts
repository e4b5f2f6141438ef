import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RunLogs } from '../../src/adapters/aws/s3-run-logs.js';
import { type Moto, startMoto } from '../support/moto.js';

/** The log store against moto's S3: puts, reads, and presigned links fetched over plain HTTP. */
describe('S3RunLogs on moto', () => {
  let moto: Moto;
  let logs: S3RunLogs;
  const bucket = 'provisioner-runs-moto';
  const key = 'runs/7f0c2b8e-1d2a-4b3c-9d4e-5f6a7b8c9d0e/AROA3XFRBF535PLBIFPI4:i-0abc/log.txt';
  beforeAll(async () => {
    moto = await startMoto();
    const config = { ...moto.clientConfig, forcePathStyle: true };
    await new S3Client(config).send(new CreateBucketCommand({ Bucket: bucket }));
    logs = new S3RunLogs(bucket, (sdk) => new sdk.S3Client(config));
  });
  afterAll(() => moto.stop());

  it('puts and reads back an object; a missing one is undefined', async () => {
    await logs.put(key, '== step clone\n');
    expect(await logs.get(key)).toBe('== step clone\n');
    expect(await logs.get('runs/none/result.json')).toBeUndefined();
  });

  it('presigns a GET that works over HTTP, as text, and honours Range (what --follow reads)', async () => {
    await logs.put(key, '== step clone\n== step build\n');
    const url = await logs.presignGet(key, 900);
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await whole.text()).toBe('== step clone\n== step build\n');
    const rest = await fetch(url, { headers: { Range: 'bytes=14-' } });
    expect(rest.status).toBe(206);
    expect(await rest.text()).toBe('== step build\n');
  });

  it('a bucket that is not there is an error, not an empty log', async () => {
    const elsewhere = new S3RunLogs('no-such-bucket', (sdk) => new sdk.S3Client({ ...moto.clientConfig, forcePathStyle: true }));
    await expect(elsewhere.get(key)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
