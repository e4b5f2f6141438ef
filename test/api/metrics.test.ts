import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { metricNames } from '../../src/metrics.js';
import { startTestApi, type TestApi } from '../support/local-api.js';

let api: TestApi;
let lines: string[] = [];

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env.PROVISIONER_METRICS;
});

/** The EMF lines written to stdout while `work` runs. */
async function metricLines(work: () => Promise<unknown>): Promise<Record<string, any>[]> {
  lines = [];
  const write = process.stdout.write.bind(process.stdout);
  jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) lines.push(text);
    else return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    return true;
  }) as typeof process.stdout.write);
  await work();
  return lines.flatMap((text) => text.trim().split('\n')).map((line) => JSON.parse(line));
}

/** What the EMF specification requires of every line: the `_aws` metadata and each named value at the top level. */
function expectEmf(line: Record<string, any>) {
  expect(typeof line._aws.Timestamp).toBe('number');
  for (const directive of line._aws.CloudWatchMetrics) {
    expect(directive.Namespace).toBe('Provisioner');
    for (const set of directive.Dimensions) for (const dimension of set) expect(typeof line[dimension]).toBe('string');
    for (const metric of directive.Metrics) expect(typeof line[metric.Name]).toBe('number');
  }
}

describe('metrics as Embedded Metric Format lines', () => {
  it('counts each request per operation and in total, with its latency; an error by its code; a 4xx is no server error', async () => {
    process.env.PROVISIONER_METRICS = '1';
    const emitted = await metricLines(async () => {
      await api.call('GET', '/v1/health');
      await api.call('GET', '/v1/clusters/no-such-cluster');
    });
    emitted.forEach(expectEmf);
    const requests = emitted.filter((line) => metricNames.requests in line);
    expect(requests.map((line) => [line.Operation, line.Requests, line.ServerErrors])).toEqual([
      ['health', 1, 0],
      ['get-cluster', 1, 0],
    ]);
    expect(requests[0]?._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Operation'], []]);
    expect(requests[0]?.Latency).toBeGreaterThanOrEqual(0);
    const errors = emitted.filter((line) => metricNames.errors in line);
    expect(errors.map((line) => [line.Operation, line.Code, line.Errors])).toEqual([['get-cluster', 'cluster_not_found', 1]]);
    expect(errors[0]?._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Operation', 'Code']]);
  });

  it('carries nothing a caller sent: no path, token or body reaches a metric line', async () => {
    process.env.PROVISIONER_METRICS = '1';
    const secret = 'eyJhbGciOiJFUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl';
    const emitted = await metricLines(() => api.call('GET', '/v1/clusters/acme-secret-name', { token: secret }));
    expect(emitted.length).toBeGreaterThan(0);
    expect(JSON.stringify(emitted)).not.toContain(secret);
    expect(JSON.stringify(emitted)).not.toContain('acme-secret-name');
    expect(emitted.map((line) => line.Code).filter(Boolean)).toEqual(['invalid_token']);
  });

  it('writes nothing locally unless asked (PROVISIONER_METRICS=1), so npm start prints no line per request', async () => {
    expect(await metricLines(() => api.call('GET', '/v1/health'))).toEqual([]);
  });
});
