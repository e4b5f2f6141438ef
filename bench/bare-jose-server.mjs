// The baseline for ACCESS: the least a server can do to issue a cluster JWT with jose. It verifies the
// user JWT (the same pinned checks as the API, against the API's JWKS) and signs a cluster JWT with
// its own ES256 key, on every request; no rate limit, no logs, no validation framework.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, generateKeyPair, jwtVerify, SignJWT } from 'jose';

const issuer = process.env.BENCH_ISSUER;
const jwks = createLocalJWKSet(JSON.parse(process.env.BENCH_JWKS ?? '{"keys":[]}'));
const { privateKey } = await generateKeyPair('ES256');
const route = /^\/v1\/clusters\/([a-z0-9-]+)\/access$/;

async function access(req) {
  const cluster = route.exec(req.url ?? '')?.[1];
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (req.method !== 'POST' || !cluster || !token) return [404, { error: 'not found' }];
  let payload;
  try {
    ({ payload } = await jwtVerify(token, jwks, { algorithms: ['ES256'], issuer, audience: 'provisioner', typ: 'user+jwt', requiredClaims: ['exp', 'iat', 'sub', 'jti'], clockTolerance: 30 }));
  } catch {
    return [401, { error: 'invalid token' }];
  }
  const iat = Math.floor(Date.now() / 1000);
  const signed = await new SignJWT({ level: payload.level })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'cluster+jwt' })
    .setIssuer(issuer)
    .setAudience(cluster)
    .setSubject(String(payload.sub))
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 3600)
    .setJti(randomUUID())
    .sign(privateKey);
  return [200, { token: signed, expires_at: new Date((iat + 3600) * 1000).toISOString(), cluster }];
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    const [status, body] = await access(req);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
