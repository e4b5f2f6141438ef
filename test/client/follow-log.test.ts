import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, ProvisionerApiError } from '../../client/index.js';

const runId = '6f1c2a8e-5d0b-4c3e-9a1f-2b7d8e9f0a1b';

/**
 * A stand-in API serving one run and its log: the run passes at the `passesAt`-th GET; the log
 * answers each read with the next status of `logStatuses` (the last one repeats), 200 serving `log`.
 */
function fakeRunServer(passesAt: number, logStatuses: number[], log = 'hello\n') {
  const counts = { runGets: 0, logGets: 0 };
  const server: Server = createServer((req, res) => {
    const { port } = server.address() as AddressInfo;
    if (req.url === `/v1/runs/${runId}`) {
      counts.runGets++;
      const passed = counts.runGets >= passesAt;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: runId, kind: 'release', cluster: 'acme-dev', version: 'v1', plan: 'build', status: passed ? 'passed' : 'running',
          created_by: 'github:alice', created_at: null, deadline: null, finished_at: null, steps: [], failed_step: null, reason: null,
          log_url: `http://127.0.0.1:${port}/log`, updated_at: null,
        }),
      );
      return;
    }
    const status = logStatuses[Math.min(counts.logGets++, logStatuses.length - 1)] ?? 200;
    const offset = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (status !== 200) res.writeHead(status).end();
    else if (offset >= log.length) res.writeHead(416).end();
    else res.writeHead(offset > 0 ? 206 : 200).end(log.slice(offset));
  });
  return new Promise<{ url: string; counts: typeof counts; server: Server }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, server })),
  );
}

const clientOf = (url: string) =>
  createClient({ env: { PROVISIONER_URL: url, PROVISIONER_TOKEN: 'a-user-jwt', PROVISIONER_CONFIG: join(mkdtempSync(join(tmpdir(), 'follow-')), 'none.toml') }, retryBaseMs: 1 });

describe('followLog when reading the log fails on the way', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
  });

  it('tries a failed read (5xx) again at the next poll and hands over the whole log once', async () => {
    const fake = await fakeRunServer(3, [500, 200]);
    server = fake.server;
    const pieces: string[] = [];
    const run = await clientOf(fake.url).runs.followLog(runId, { intervalMs: 10, onText: (text) => pieces.push(text) });
    expect(run.status).toBe('passed');
    expect(pieces.join('')).toBe('hello\n');
    expect(fake.counts.logGets).toBeGreaterThanOrEqual(2);
  });

  it('reads the end of the log again at once when the read after the run ended fails', async () => {
    const fake = await fakeRunServer(1, [503, 502, 200]);
    server = fake.server;
    const pieces: string[] = [];
    const run = await clientOf(fake.url).runs.followLog(runId, { intervalMs: 10, onText: (text) => pieces.push(text) });
    expect([run.status, pieces.join(''), fake.counts.runGets, fake.counts.logGets]).toEqual(['passed', 'hello\n', 1, 3]);
  });

  it('gives up after three failed reads in a row, and at once on a refusal (4xx)', async () => {
    const failing = await fakeRunServer(100, [500]);
    server = failing.server;
    const error = await clientOf(failing.url).runs.followLog(runId, { intervalMs: 10, onText: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionerApiError);
    expect([(error as ProvisionerApiError).status, failing.counts.logGets]).toEqual([500, 3]);
    failing.server.close();

    const refused = await fakeRunServer(100, [403]);
    server = refused.server;
    const refusal = await clientOf(refused.url).runs.followLog(runId, { intervalMs: 10, onText: () => undefined }).catch((e: unknown) => e);
    expect([(refusal as ProvisionerApiError).status, (refusal as ProvisionerApiError).code, refused.counts.logGets]).toEqual([403, 'log_unavailable', 1]);
  });
});
