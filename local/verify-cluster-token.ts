/**
 * `npm run verify-cluster-token -- --issuer URL --cluster NAME [--jwks URL] [TOKEN]`
 * Checks a cluster JWT the way a cluster's load balancer does (offline against the JWKS) and prints
 * its claims. Reads the token from stdin when not given. Exit 0 valid, 1 refused, 2 usage, 3 the keys
 * could not be fetched (no verdict: retry).
 */
import { parseArgs } from 'node:util';
import { createClusterVerifier, KeysUnavailable, TokenRejected } from '../src/tokens/cluster-verifier.js';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { issuer: { type: 'string' }, cluster: { type: 'string' }, jwks: { type: 'string' } }, allowPositionals: true });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const { issuer, cluster, jwks } = parsed.values;
  if (!issuer || !cluster) {
    console.error('usage: verify-cluster-token --issuer URL --cluster NAME [--jwks URL] [TOKEN]');
    return 2;
  }
  const token = (parsed.positionals[0] ?? (await readStdin())).trim();
  try {
    const claims = await createClusterVerifier({ issuer, cluster, jwks })(token);
    console.log(JSON.stringify({ valid: true, ...claims }));
    return 0;
  } catch (error) {
    if (error instanceof KeysUnavailable) {
      console.log(JSON.stringify({ valid: null, error: 'keys_unavailable', message: `${error.message}; retry shortly.` }));
      console.error(`${error.message}: ${(error.cause as Error | undefined)?.message ?? 'unknown cause'}`);
      return 3;
    }
    if (!(error instanceof TokenRejected)) throw error;
    console.log(JSON.stringify({ valid: false, reason: error.reason }));
    return 1;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

process.exitCode = await main();
