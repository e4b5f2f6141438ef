import { Logger } from '@aws-lambda-powertools/logger';

/** The narrow logging interface the code below the handler sees. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Structured JSON logs (level from POWERTOOLS_LOG_LEVEL). */
export const logger = new Logger({ serviceName: 'provisioner' });

/**
 * A log bound to one request. Keys are passed per call rather than appended to the shared logger,
 * because the local server runs many requests at once in one process.
 */
export function requestLog(requestId: string, operation: string): Log {
  const keys = { request_id: requestId, operation };
  return {
    debug: (message, extra) => logger.debug(message, { ...keys, ...extra }),
    info: (message, extra) => logger.info(message, { ...keys, ...extra }),
    warn: (message, extra) => logger.warn(message, { ...keys, ...extra }),
    error: (message, extra) => logger.error(message, { ...keys, ...extra }),
  };
}
