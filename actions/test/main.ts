import * as core from '@actions/core';
import { connect, connectionInputs, escapeHtml, runAction } from '../connect.js';

/** The last lines of a failed run's log shown in the job summary: enough to see why, not the whole log. */
const excerptLines = 40;

/** Runs the catalog's TEST plan on a running cluster, waits for it to end, and fails the job naming the failing step. */
await runAction(async () => {
  const connection = connectionInputs();
  const cluster = core.getInput('cluster', { required: true });
  const version = core.getInput('version', { required: true });

  const { runs } = await connect(connection);
  const started = await runs.test(cluster, version);
  core.setOutput('run-id', started.id);
  core.info(`TEST ${started.id} of ${cluster} at ${version}: ${started.status}.`);
  let lastStatus = started.status;
  const run = await runs.waitFor(started.id, {
    onProgress: ({ status }, elapsedMs) => {
      if (status === lastStatus) return;
      lastStatus = status;
      core.info(`TEST ${started.id}: ${status} (${Math.round(elapsedMs / 1000)} s)`);
    },
  });
  core.setOutput('status', run.status);
  const title = `TEST ${run.id} of ${cluster} at ${version}`;
  if (run.status === 'passed') {
    await core.summary.addRaw(`${escapeHtml(title)} passed.`, true).write();
    return;
  }
  const where = run.failed_step ? ` at step "${run.failed_step}"` : '';
  const excerpt = (await runs.log(run.id)).trimEnd().split('\n').slice(-excerptLines).join('\n');
  await core.summary
    .addHeading(escapeHtml(`${title} ${run.status}${where}`), 3)
    .addRaw(`Last ${excerptLines} lines of the log:`, true)
    .addCodeBlock(escapeHtml(excerpt))
    .write();
  core.setFailed(`${title} ${run.status}${where}.`);
});
