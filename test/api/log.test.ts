import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { requestLog } from '../../src/log.js';

/** Captures what the log writes to stdout and stderr. */
function capture() {
  const lines: { stream: 'out' | 'err'; entry: Record<string, unknown> }[] = [];
  const spy = (stream: 'out' | 'err') => (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push({ stream, entry: JSON.parse(line) });
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(spy('out') as never);
  jest.spyOn(process.stderr, 'write').mockImplementation(spy('err') as never);
  return lines;
}

describe('structured logs', () => {
  const level = process.env.PROVISIONER_LOG_LEVEL;
  afterEach(() => {
    jest.restoreAllMocks();
    process.env.PROVISIONER_LOG_LEVEL = level;
  });

  it('writes one JSON line per entry with the request keys, errors by name and message, warnings to stderr', () => {
    process.env.PROVISIONER_LOG_LEVEL = 'DEBUG';
    const lines = capture();
    const log = requestLog('req-1', 'deploy');
    log.info('cluster event', { cluster: 'demo', count: 2n });
    log.warn('destroy refused', { error: new TypeError('boom') });
    expect(lines).toEqual([
      { stream: 'out', entry: { level: 'INFO', message: 'cluster event', timestamp: expect.any(String), service: 'provisioner', request_id: 'req-1', operation: 'deploy', cluster: 'demo', count: '2' } },
      { stream: 'err', entry: expect.objectContaining({ level: 'WARN', message: 'destroy refused', error: { name: 'TypeError', message: 'boom' } }) },
    ]);
  });

  it('leaves out what is below PROVISIONER_LOG_LEVEL, and everything when SILENT', () => {
    const lines = capture();
    const log = requestLog('req-2', 'access');
    process.env.PROVISIONER_LOG_LEVEL = 'warn';
    log.debug('d');
    log.info('i');
    log.error('e');
    process.env.PROVISIONER_LOG_LEVEL = 'SILENT';
    log.error('hidden');
    expect(lines.map((l) => l.entry.message)).toEqual(['e']);
  });

  it('still writes a line when an entry cannot be serialized', () => {
    process.env.PROVISIONER_LOG_LEVEL = 'INFO';
    const lines = capture();
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    requestLog('req-3', 'login').info('odd', { loop });
    expect(lines[0]?.entry).toMatchObject({ level: 'INFO', message: 'odd', log_error: 'the entry could not be serialized' });
  });
});
