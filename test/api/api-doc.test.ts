import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { apiDocPath, renderApiDoc } from '../../local/api-doc.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { routeErrors } from '../../src/api/route-errors.js';
import { routeEntries } from '../../src/api/routes.js';
import { errorStatus } from '../../src/domain/errors.js';

describe('docs/api.md', () => {
  it('is what npm run api-doc makes of the route table now', () => {
    const committed = readFileSync(apiDocPath, 'utf8');
    const fresh = renderApiDoc();
    if (committed !== fresh) {
      const line = fresh.split('\n').findIndex((text, i) => text !== committed.split('\n')[i]) + 1;
      throw new Error(`docs/api.md is stale: run npm run api-doc (first difference at line ${line}).`);
    }
  });

  it('documents every route, each with the error statuses the served OpenAPI lists for it', () => {
    const doc = renderApiDoc();
    const paths = openApiDocument().paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    for (const [operation, spec] of routeEntries) {
      expect(doc).toContain(`### \`${spec.method} ${spec.path}\` (${operation})`);
      // The console's pages are not part of the JSON contract the OpenAPI document describes.
      if (spec.file) continue;
      const served = Object.keys(paths[spec.path]?.[spec.method.toLowerCase()]?.responses ?? {}).filter((status) => Number(status) >= 400);
      const documented = [...new Set(routeErrors(operation).map((code) => String(errorStatus[code])))];
      expect([operation, served.sort()]).toEqual([operation, documented.sort()]);
    }
  });
});
