import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { closeServer, listenLocal } from './http.js';
import { createServer, type Server } from 'node:http';

/** A GitHub-Actions-like OIDC issuer on 127.0.0.1: its own RSA key, discovery document and JWKS. */
export class FakeOidcIssuer {
  url = '';
  private server?: Server;
  private privateKey?: CryptoKey;
  private jwks: unknown;

  async start(): Promise<this> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.privateKey = privateKey;
    this.jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'fake-1', alg: 'RS256', use: 'sig' }] };
    this.server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: this.url, jwks_uri: `${this.url}/.well-known/jwks` }));
      if (req.url === '/.well-known/jwks') return res.end(JSON.stringify(this.jwks));
      res.statusCode = 404;
      res.end('{}');
    });
    this.url = await listenLocal(this.server);
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  /** An Actions token for `repository` at `ref`; `overrides` forge anything else. */
  async mint(
    claims: { repository: string; ref: string } & JWTPayload,
    options: { audience?: string; issuer?: string; now?: Date; key?: CryptoKey; kid?: string } = {},
  ): Promise<string> {
    const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
    return new SignJWT({ repository_owner: claims.repository.split('/')[0], ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'fake-1', typ: 'JWT' })
      .setIssuer(options.issuer ?? this.url)
      .setAudience(options.audience ?? 'provisioner')
      .setSubject(`repo:${claims.repository}:ref:${claims.ref}`)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 300)
      .sign(options.key ?? (this.privateKey as CryptoKey));
  }
}
