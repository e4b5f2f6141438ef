/** The narrow logging interface the code below the handler sees. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

const severities = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
type Level = Exclude<keyof typeof severities, 'SILENT'>;

/** PROVISIONER_LOG_LEVEL (DEBUG, INFO, WARN, ERROR, SILENT), read on each line so tests and tools may change it; INFO by default. */
function threshold(): number {
  const name = (process.env.PROVISIONER_LOG_LEVEL ?? 'INFO').toUpperCase();
  return name in severities ? severities[name as keyof typeof severities] : severities.INFO;
}

/** Errors keep their name and message in JSON (they would print as `{}`); anything else as it is. */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * One structured JSON line per entry: level, message, timestamp, service, then the entry's keys. A few
 * lines of our own instead of a logging library, which cost ≈14 ms of every cold start to load.
 */
function write(level: Level, message: string, extra: Record<string, unknown>): void {
  if (severities[level] < threshold()) return;
  const entry = { level, message, timestamp: new Date().toISOString(), service: 'provisioner', ...extra };
  let line: string;
  try {
    line = JSON.stringify(entry, jsonValue);
  } catch {
    line = JSON.stringify({ level, message, timestamp: entry.timestamp, service: 'provisioner', request_id: extra.request_id, operation: extra.operation, log_error: 'the entry could not be serialized' });
  }
  (severities[level] >= severities.WARN ? process.stderr : process.stdout).write(`${line}\n`);
}

/**
 * A log bound to one request. Keys are passed per call rather than kept in shared state, because the
 * local server runs many requests at once in one process.
 */
export function requestLog(requestId: string, operation: string): Log {
  const keys = { request_id: requestId, operation };
  return {
    debug: (message, extra) => write('DEBUG', message, { ...keys, ...extra }),
    info: (message, extra) => write('INFO', message, { ...keys, ...extra }),
    warn: (message, extra) => write('WARN', message, { ...keys, ...extra }),
    error: (message, extra) => write('ERROR', message, { ...keys, ...extra }),
  };
}
