import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { clustersService } from '../../client/clusters.js';
import { Session } from '../../client/session.js';
import { closeServer, listenLocal } from '../support/http.js';

/** An API whose clusters answer with the statuses the test sets. */
const statuses = new Map<string, { status: string; reason: string | null }>();
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = /^\/v1\/clusters\/([a-z0-9-]+)$/.exec(req.url ?? '')?.[1] ?? '';
    const cluster = { name, visibility: 'private', nodes: 2, version: 'v4.1.0', deployed_by: 'github:olga', destroy_at: null, deadline: null, endpoints: [], updated_at: null, ...statuses.get(name) };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(cluster));
  });
  url = await listenLocal(server);
});
afterAll(() => closeServer(server));

describe('waitFor', () => {
  it('stops waiting for running when the cluster is degraded, naming the reason and the repair', async () => {
    statuses.set('acme-dev', { status: 'degraded', reason: 'instance i-0abc is terminated' });
    const clusters = clustersService(new Session({ url, retries: 0, timeoutMs: 5_000 }));

    const error = await clusters.waitFor('acme-dev', 'running', { intervalMs: 10, timeoutMs: 60_000 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'operation_failed', message: expect.stringContaining('instance i-0abc is terminated') });
    expect((error as Error).message).toContain('deploy it again');
  });

  it('names why a destroy is not done when the wait for absent runs out (a backend that keeps refusing)', async () => {
    statuses.set('acme-ops', { status: 'destroying', reason: 'the backend refused the destroy: RequestLimitExceeded' });
    const clusters = clustersService(new Session({ url, retries: 0, timeoutMs: 5_000 }));

    const error = await clusters.waitFor('acme-ops', 'absent', { intervalMs: 10, timeoutMs: 0 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'timeout', message: expect.stringContaining('still destroying') });
    expect((error as Error).message).toContain('the backend refused the destroy: RequestLimitExceeded');
  });

  it('answers a degraded cluster to whoever waits for degraded', async () => {
    statuses.set('acme-qa', { status: 'degraded', reason: 'node 1 exited' });
    const clusters = clustersService(new Session({ url, retries: 0, timeoutMs: 5_000 }));

    expect(await clusters.waitFor('acme-qa', 'degraded', { intervalMs: 10 })).toMatchObject({ status: 'degraded' });
  });
});
