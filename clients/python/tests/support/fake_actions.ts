/**
 * For the Python tests: a GitHub-Actions-like OIDC issuer (test/support/fake-oidc.ts) plus the
 * runtime's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL), which mints a token for acme/sliderule
 * with the audience the client asks for. Prints `{"issuer", "token_url"}` once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeOidcIssuer } from '../../../../test/support/fake-oidc.js';

const requestToken = process.env.FAKE_ACTIONS_REQUEST_TOKEN ?? 'actions-request-token';
const issuer = await new FakeOidcIssuer().start();
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  res.setHeader('content-type', 'application/json');
  if (url.pathname !== '/token' || req.headers.authorization !== `bearer ${requestToken}`) {
    res.statusCode = 401;
    res.end('{}');
    return;
  }
  void issuer
    .mint({ repository: 'acme/sliderule', ref: 'refs/heads/main' }, { audience: url.searchParams.get('audience') ?? '' })
    .then((value) => res.end(JSON.stringify({ value })));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ issuer: issuer.url, token_url: `http://127.0.0.1:${port}/token` })}\n`);
});
