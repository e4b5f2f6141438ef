import { ProvisionerError } from '../../domain/errors.js';

/** Seconds a client waits before retrying a call that failed on an AWS dependency. */
export const dependencyRetryAfterSeconds = 5;

/** Error names of throttling and server faults across the AWS services the adapters call. */
const transientNames = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Socket-level failures (Node's `code`), as the SDK's HTTP handler passes them on. */
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Throttling, a 5xx, a timeout or a network failure: the same call may succeed a little later. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = error as Error & { $retryable?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  if (meta.$retryable || meta.$fault === 'server') return true;
  if ((meta.$metadata?.httpStatusCode ?? 0) >= 500 || meta.$metadata?.httpStatusCode === 429) return true;
  return transientNames.has(meta.name) || networkCodes.has(meta.code ?? '');
}

/** The API's answer to a failing AWS dependency: 503 `dependency_unavailable`, retry after a few seconds. */
export function dependencyUnavailable(dependency: string, error: unknown): ProvisionerError {
  const name = error instanceof Error ? ((error as { code?: string }).code ?? error.name) : 'error';
  return new ProvisionerError('dependency_unavailable', `${dependency} is unavailable (${name}); retry shortly.`, undefined, {
    'retry-after': String(dependencyRetryAfterSeconds),
  });
}

/**
 * Runs one AWS call: a transient failure becomes `dependencyUnavailable`, so the client retries;
 * anything else (a refusal, a bug) passes on unchanged for the caller to decide.
 */
export async function guarded<T>(dependency: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isTransient(error)) throw dependencyUnavailable(dependency, error);
    throw error;
  }
}
