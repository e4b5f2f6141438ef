/**
 * The example cluster the local backend runs, one process per node. It plays the cluster's load
 * balancer with SlideRule's rule: a private cluster answers only requests carrying a valid cluster
 * JWT for its own name; a public one also answers requests without a token, but refuses an invalid
 * one. Tokens are checked offline against the API's JWKS.
 *
 * Environment: PORT, CLUSTER, CLUSTER_VERSION (the version DEPLOY asked for, in every answer), VISIBILITY
 * (public|private), PROVISIONER_ISSUER, PROVISIONER_JWKS_URL, NODE_INDEX.
 */
import { createServer } from 'node:http';
import { createClusterVerifier, TokenRejected } from '../src/tokens/cluster-verifier.js';

const { PORT = '0', CLUSTER = 'demo', CLUSTER_VERSION = 'latest', VISIBILITY = 'private', PROVISIONER_ISSUER = '', PROVISIONER_JWKS_URL, NODE_INDEX = '0' } = process.env;
const verify = createClusterVerifier({ issuer: PROVISIONER_ISSUER, cluster: CLUSTER, jwks: PROVISIONER_JWKS_URL });

const server = createServer((req, res) => {
  const answer = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) {
    if (VISIBILITY === 'public') return answer(200, { cluster: CLUSTER, version: CLUSTER_VERSION, node: Number(NODE_INDEX), path: req.url, caller: 'anonymous' });
    return answer(401, { error: { code: 'cluster_token_required', message: `${CLUSTER} is private: send a cluster JWT (POST /v1/clusters/${CLUSTER}/access).` } });
  }
  verify(token).then(
    (claims) => answer(200, { cluster: CLUSTER, version: CLUSTER_VERSION, node: Number(NODE_INDEX), path: req.url, caller: claims.sub, level: claims.level }),
    (error: unknown) => {
      if (error instanceof TokenRejected) return answer(401, { error: { code: 'invalid_cluster_token', message: `The cluster JWT was refused (${error.reason}).` } });
      answer(503, { error: { code: 'jwks_unavailable', message: 'The API\'s keys could not be fetched; retry shortly.' } });
    },
  );
});

server.listen(Number(PORT), '127.0.0.1', () => {
  const address = server.address();
  console.log(`cluster ${CLUSTER} node ${NODE_INDEX} listening on ${typeof address === 'object' && address ? address.port : PORT}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
