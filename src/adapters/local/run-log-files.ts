import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Clock, systemClock } from '../../domain/clock.js';
import type { RunLogs } from '../../ports.js';

export interface LocalRunLogServer {
  logs: RunLogs;
  /** Where the links point (a loopback port of its own). */
  url: string;
  close(): Promise<void>;
}

/** A key is the runner's `runs/<id>/<writer>/<name>`: plain segments only, so it always stays under the directory. */
function segmentsOf(key: string): string[] | undefined {
  const segments = key.split('/');
  return segments.every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\0') && !s.includes('\\')) ? segments : undefined;
}

const contentTypeOf = (key: string) => (key.endsWith('.json') ? 'application/json' : 'text/plain; charset=utf-8');

/**
 * The local log bucket: files in a 0700 directory, read over HTTP only through a link this runtime
 * signed (`presignGet`): an HMAC-SHA256, under a key made at each start, of the object's key and
 * the link's expiry. Anything else (no or a wrong signature, an expired link, a listing, a write)
 * is refused, so no other local user reads, lists or overwrites a run's log. Range reads answer
 * 206 as S3 does, so a client follows the log the same way.
 */
export async function startLocalRunLogs(directory: string, clock: Clock = systemClock): Promise<LocalRunLogServer> {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  const sign = (key: string, expires: number) => createHmac('sha256', secret).update(`${key}\n${expires}`).digest();
  const pathOf = (key: string) => {
    const segments = segmentsOf(key);
    if (!segments) throw new Error(`not a run log key: ${key}`);
    return join(directory, ...segments);
  };
  const read = (key: string): Buffer | undefined => {
    try {
      return readFileSync(pathOf(key));
    } catch {
      return undefined;
    }
  };

  const server = createServer((request, response) => serve(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function serve(request: IncomingMessage, response: ServerResponse): void {
    const answer = (status: number, body: string | Buffer = '', headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, 'Only signed GET links are served.\n', { allow: 'GET, HEAD' });
    let link: URL;
    let key: string;
    try {
      link = new URL(request.url ?? '/', url);
      key = link.pathname.slice(1).split('/').map(decodeURIComponent).join('/');
    } catch {
      return answer(403, 'This link is not signed by the API.\n');
    }
    const expires = Number(link.searchParams.get('expires'));
    const signature = Buffer.from(link.searchParams.get('signature') ?? '', 'hex');
    const expected = sign(key, expires);
    if (!segmentsOf(key) || signature.length !== expected.length || !timingSafeEqual(signature, expected)) return answer(403, 'This link is not signed by the API.\n');
    if (!(expires * 1000 > clock.now().getTime())) return answer(403, 'This link has expired; read the run again for a new one.\n');
    const body = read(key);
    if (!body) return answer(404, 'No such log yet.\n');
    const headers = { 'content-type': contentTypeOf(key), 'accept-ranges': 'bytes' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    if (!range) return answer(200, body, headers);
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
    if (start >= body.length || end < start) return answer(416, '', { 'content-range': `bytes */${body.length}` });
    answer(206, body.subarray(start, end + 1), { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}` });
  }

  const logs: RunLogs = {
    async put(key, body) {
      const path = pathOf(key);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Written aside, then renamed: a reader never sees half a log.
      const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
      writeFileSync(aside, body, { mode: 0o600 });
      renameSync(aside, path);
    },
    async get(key) {
      return read(key)?.toString('utf8');
    },
    async presignGet(key, seconds) {
      pathOf(key);
      const expires = Math.floor(clock.now().getTime() / 1000) + seconds;
      const path = key.split('/').map(encodeURIComponent).join('/');
      return `${url}/${path}?expires=${expires}&signature=${sign(key, expires).toString('hex')}`;
    },
  };
  return {
    logs,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

