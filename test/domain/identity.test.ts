import { describe, expect, it } from '@jest/globals';
import { type Catalog, CatalogError, parseCatalog, rateLimitFor, readShippedCatalog, shipCatalog } from '../../src/domain/catalog.js';
import { shippedCatalogFile } from '../../lib/shipped-catalog.js';
import { parseDuration } from '../../src/domain/duration.js';
import { callerFromActions, callerFromGitHub, catalogOrgs } from '../../src/domain/identity.js';
import { anonymousCaller } from '../../src/domain/levels.js';
import { requireLevel } from '../../src/domain/policy.js';
import { visibleCluster } from '../../src/domain/clusters.js';
import { networkOf, rateWindow } from '../../src/domain/rate-limit.js';
import { testCatalog } from '../support/local-api.js';

const catalog: Catalog = parseCatalog(JSON.stringify({ ...testCatalog, clusters: [...testCatalog.clusters, { name: 'beta-lab', visibility: 'private', org: 'beta', backend: { kind: 'local' } }] }), 'test');

describe('the catalog', () => {
  it('refuses an org member max_ttl the scheduler could not honour (over 30 days)', () => {
    const withTtl = (max_ttl: string) => JSON.stringify({ ...testCatalog, limits: { org_member: { max_ttl } } });
    expect(parseCatalog(withTtl('30d'), 'ok.json').limits.org_member?.max_ttl).toBe('30d');
    expect(() => parseCatalog(withTtl('31d'), 'my.json')).toThrow(/limits\.org_member\.max_ttl: must be at most 30d/);
  });

  it('names the source and every bad field', () => {
    const bad = { ...testCatalog, clusters: [{ name: 'Bad Name', visibility: 'secret', backend: { kind: 'ec2', launch_template: 'nope' } }] };
    expect(() => parseCatalog(JSON.stringify(bad), 'my.json')).toThrow(CatalogError);
    try {
      parseCatalog(JSON.stringify(bad), 'my.json');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('my.json');
      expect(message).toContain('clusters.0.name');
      expect(message).toContain('clusters.0.visibility');
      expect(message).toContain('clusters.0.backend.launch_template');
    }
  });

  it('refuses duplicate cluster names, unknown fields and bad JSON', () => {
    expect(() => parseCatalog(JSON.stringify({ ...testCatalog, clusters: [testCatalog.clusters[0], testCatalog.clusters[0]] }), 'c')).toThrow(/unique/);
    expect(() => parseCatalog(JSON.stringify({ ...testCatalog, admins_typo: [] }), 'c')).toThrow(/admins_typo/);
    expect(() => parseCatalog('{', 'c')).toThrow(/not valid JSON/);
  });

  it('ships a valid example', async () => {
    const { readFileSync } = await import('node:fs');
    const { exampleCatalogPath } = await import('../../src/runtime/local.js');
    expect(parseCatalog(readFileSync(exampleCatalogPath, 'utf8'), 'example').clusters.map((c) => c.visibility).sort()).toEqual(['private', 'public']);
  });

  it('ships to Lambda as validated at synth: read back, it is the catalog with its defaults filled in', async () => {
    const { readFileSync } = await import('node:fs');
    const { exampleCatalogPath } = await import('../../src/runtime/local.js');
    const example = parseCatalog(readFileSync(exampleCatalogPath, 'utf8'), 'example');
    // Defaults of every section are in what ships (a catalog without workspaces gets the seed's).
    expect(example.workspaces.default_expiry).toBe('2d');
    for (const parsed of [example, catalog]) expect(readShippedCatalog(shipCatalog(parsed), 'catalog.json')).toEqual(parsed);
    expect(readShippedCatalog(readFileSync(shippedCatalogFile(exampleCatalogPath), 'utf8'), 'catalog.json')).toEqual(example);
  });

  it('refuses to ship a bad catalog (the synth fails, naming the field) and to read a raw one in Lambda', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const bad = join(mkdtempSync(join(tmpdir(), 'catalog-')), 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...testCatalog, clusters: [{ name: 'Bad Name', visibility: 'public', backend: { kind: 'local' } }] }));
    expect(() => shippedCatalogFile(bad)).toThrow(/bad\.json.*clusters\.0\.name/);
    expect(() => readShippedCatalog(JSON.stringify(testCatalog), '/var/task/catalog.json')).toThrow(/\/var\/task\/catalog\.json is not a catalog the stack validated/);
    expect(() => readShippedCatalog('{', 'catalog.json')).toThrow(/not valid JSON/);
  });
});

describe('levels and policy', () => {
  it('derives the four levels from GitHub memberships', () => {
    expect(callerFromGitHub({ login: 'Alice', orgs: [], teamMember: false }, catalog).level).toBe('administrator');
    expect(callerFromGitHub({ login: 'tom', orgs: ['acme'], teamMember: true }, catalog).level).toBe('administrator');
    expect(callerFromGitHub({ login: 'olga', orgs: ['acme'], teamMember: false }, catalog).level).toBe('org_member');
    expect(callerFromGitHub({ login: 'bea', orgs: ['beta'], teamMember: false }, catalog)).toMatchObject({ level: 'github_member', orgs: ['beta'] });
    expect(catalogOrgs(catalog)).toEqual(['acme', 'beta']);
  });

  it('admits a private cluster to members of its own organization only', () => {
    const bea = callerFromGitHub({ login: 'bea', orgs: ['beta'], teamMember: false }, catalog);
    const olga = callerFromGitHub({ login: 'olga', orgs: ['acme'], teamMember: false }, catalog);
    const hidden = expect.objectContaining({ code: 'cluster_not_found' });
    expect(visibleCluster(catalog, 'beta-lab', bea).name).toBe('beta-lab');
    expect(() => visibleCluster(catalog, 'acme-dev', bea)).toThrow(hidden);
    expect(() => visibleCluster(catalog, 'beta-lab', olga)).toThrow(hidden);
    expect(() => visibleCluster(catalog, 'beta-lab', anonymousCaller)).toThrow(hidden);
  });

  it('matches Actions rules on repository and ref', () => {
    expect(callerFromActions({ repository: 'ACME/docs', repositoryOwner: 'acme', ref: 'refs/heads/main' }, catalog)).toMatchObject({ level: 'org_member', orgs: ['acme'] });
    expect(() => callerFromActions({ repository: 'acme/docs', repositoryOwner: 'acme', ref: 'refs/heads/main2' }, catalog)).toThrow(
      expect.objectContaining({ code: 'repository_not_allowed' }),
    );
  });

  it('matches a rule that pins repository_id only for that repository id (not a renamed or re-created one)', () => {
    const pinned = parseCatalog(JSON.stringify({ ...testCatalog, actions: [{ repository: 'acme/sliderule', repository_id: '123456', ref: 'refs/heads/main', level: 'administrator' }] }), 'pinned');
    const claims = { repository: 'acme/sliderule', repositoryOwner: 'acme', ref: 'refs/heads/main' };
    expect(callerFromActions({ ...claims, repositoryId: '123456' }, pinned)).toMatchObject({ level: 'administrator' });
    for (const repositoryId of ['999', undefined]) {
      expect(() => callerFromActions({ ...claims, ...(repositoryId && { repositoryId }) }, pinned)).toThrow(expect.objectContaining({ code: 'repository_not_allowed' }));
    }
  });

  it('asks anonymous callers to log in and refuses the rest', () => {
    expect(() => requireLevel(anonymousCaller, 'github_member')).toThrow(expect.objectContaining({ code: 'authentication_required' }));
    expect(() => requireLevel({ ...anonymousCaller, level: 'github_member' }, 'administrator')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => requireLevel({ ...anonymousCaller, level: 'administrator' }, 'org_member')).not.toThrow();
  });
});

describe('rate windows', () => {
  it('groups IPv4 by /24 and IPv6 by /56', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.9')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:abcd:12ff:1::1')).toBe('2001:db8:abcd:1200::/56');
    expect(networkOf('2001:db8:abcd:1234::9')).toBe(networkOf('2001:db8:abcd:12ab:ffff::1'));
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0:0::/56');
  });

  it('counts anonymous callers by network and members by user, in fixed windows', () => {
    const limited = parseCatalog(JSON.stringify({ ...testCatalog, rate_limits: { anonymous: { requests: 5, per: '1m' }, github_member: { requests: 9, per: '1h' } } }), 't');
    const now = new Date('2026-11-23T12:00:30.000Z');
    expect(rateWindow(anonymousCaller, '198.51.100.4', limited, now)).toEqual({ subject: 'net:198.51.100.0/24', index: Math.floor(now.getTime() / 60_000), limit: 5, endsAt: Date.parse('2026-11-23T12:01:00Z') / 1000 });
    expect(rateWindow({ ...anonymousCaller, sub: 'github:gil', level: 'github_member' }, '198.51.100.4', limited, now)?.subject).toBe('user:github:gil');
    expect(rateWindow({ ...anonymousCaller, level: 'administrator' }, '198.51.100.4', limited, now)).toBeUndefined();
    expect(rateLimitFor(limited, 'github_member')).toEqual({ requests: 9, windowMs: 3_600_000 });
  });

  it('reads durations', () => {
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('0h')).toBeUndefined();
    expect(parseDuration('1.5h')).toBeUndefined();
  });
});
