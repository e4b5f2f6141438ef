import * as core from '@actions/core';
import { connect, connectionInputs, escapeHtml, runAction } from '../connect.js';
import { clusterState } from './state.js';

/** Deploys a cluster, waits for it to run, and hands the job its URL and a (masked) cluster JWT. */
await runAction(async () => {
  const connection = connectionInputs();
  const cluster = core.getInput('cluster', { required: true });
  const nodes = wholeNumber('nodes', core.getInput('nodes'));
  const ttl = core.getInput('ttl') || undefined;
  const version = core.getInput('version') || undefined;
  const keep = core.getBooleanInput('keep');

  const { clusters } = await connect(connection);
  // A cluster someone else already deployed is used as it is and never destroyed by this job's post step.
  const before = await clusters.get(cluster);
  const ours = before.status === 'absent' || before.status === 'failed';
  core.info(ours ? `Deploying ${cluster}${nodes ? ` with ${nodes} node(s)` : ''}${version ? ` at ${version}` : ''}...` : `${cluster} is already ${before.status}: using it, and leaving it after the job.`);
  await clusters.deploy(cluster, { nodes, ttl, version });
  // Saved once the deploy is accepted: from here on the post step destroys it, even if the wait fails.
  core.saveState(clusterState.cluster, cluster);
  core.saveState(clusterState.keep, ours ? String(keep) : 'existing');
  core.saveState(clusterState.url, connection.url);
  core.saveState(clusterState.audience, connection.audience);

  let lastStatus = '';
  const running = await clusters.waitFor(cluster, 'running', {
    onProgress: ({ status }, elapsedMs) => {
      if (status === lastStatus) return;
      lastStatus = status;
      core.info(`${cluster}: ${status} (${Math.round(elapsedMs / 1000)} s)`);
    },
  });
  const { token } = await clusters.access(cluster);
  core.setSecret(token);
  const url = running.endpoints[0] ?? '';
  core.setOutput('cluster-token', token);
  core.setOutput('cluster-url', url);
  const until = keep ? (running.destroy_at ? `kept until ${running.destroy_at}` : 'kept') : 'destroyed after the job';
  await core.summary.addRaw(`Cluster <b>${escapeHtml(cluster)}</b> is running at ${escapeHtml(url || '(no endpoint)')}, ${until}.`, true).write();
});

function wholeNumber(input: string, value: string): number | undefined {
  if (value === '') return undefined;
  if (!/^\d+$/.test(value.trim())) throw new Error(`Input ${input} must be a whole number (got "${value}").`);
  return Number(value);
}
