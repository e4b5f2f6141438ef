import * as core from '@actions/core';
import { connect, escapeHtml, runAction } from '../connect.js';
import { clusterState } from './state.js';

/** After the job: destroys the cluster the main step deployed, unless `keep: true`. */
await runAction(async () => {
  const cluster = core.getState(clusterState.cluster);
  if (!cluster) {
    core.info('No cluster was deployed: nothing to destroy.');
    return;
  }
  const keep = core.getState(clusterState.keep);
  if (keep === 'true' || keep === 'existing') {
    core.info(`Keeping ${cluster} (${keep === 'true' ? 'keep: true' : 'it ran before this job'}); its ttl, if any, still destroys it.`);
    return;
  }
  const { clusters } = await connect({ url: core.getState(clusterState.url), audience: core.getState(clusterState.audience) });
  const destroying = await clusters.destroy(cluster);
  core.info(`Destroying ${cluster}: ${destroying.status}.`);
  await core.summary.addRaw(`Cluster <b>${escapeHtml(cluster)}</b> destroyed after the job (${destroying.status}).`, true).write();
});
