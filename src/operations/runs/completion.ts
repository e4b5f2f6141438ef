import type { S3Event } from 'aws-lambda';
import { dependencies, type Providers } from '../../deps.js';
import { runKeys } from '../../domain/runs.js';
import { requestLog } from '../../log.js';
import { completeRun, type RunDeps } from './use-cases.js';

/**
 * The handler of the S3 event on `runs/<id>/<writer>/result.json`: records each run's outcome. A key
 * that names no run, or a writer other than the run's, is logged and skipped (nothing to retry); a
 * store failure or a run not yet recording its machine throws, so Lambda retries.
 */
export function completionHandler(providers: Providers<RunDeps>) {
  const resolveDeps = dependencies(providers);
  return async (event: S3Event, context?: { awsRequestId: string }): Promise<{ completed: string[] }> => {
    const requestId = context?.awsRequestId ?? crypto.randomUUID();
    const log = requestLog(requestId, 'run-completed');
    const deps = await resolveDeps();
    const completed: string[] = [];
    for (const record of event.Records ?? []) {
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      const result = runKeys.parseResult(key);
      if (!result) {
        log.warn('not a run result; ignored', { key });
        continue;
      }
      const run = await completeRun(deps, result.id, result.writer, requestId, log);
      if (run) completed.push(`${result.id}:${run.status}`);
    }
    return { completed };
  };
}
