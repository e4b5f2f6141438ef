import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { once } from '../../src/once.js';
import { ReadableStream as LazyReadableStream } from '../../src/runtime/web-streams.js';

/** Every TypeScript file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `z.object(...)`, `z.string().check(...)`: a call whose callee is a property chain rooted at `z`. */
function isZodCall(node: ts.Node): boolean {
  if (!ts.isCallExpression(node)) return false;
  let callee: ts.Expression = node.expression;
  while (ts.isPropertyAccessExpression(callee) || ts.isCallExpression(callee)) callee = callee.expression;
  return ts.isIdentifier(callee) && callee.text === 'z';
}

/**
 * The zod calls a module makes when it is loaded: those outside any function or class body (code
 * inside one runs when called, not at load).
 */
function zodCallsAtLoad(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (isZodCall(node)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${relative('.', file)}:${line + 1}`);
      return;
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return found;
}

describe('module load (issue 9)', () => {
  it('builds no zod schema: each is built on first use, so a function builds only those its requests read', () => {
    // Building the API's and the catalog's schemas at load was ≈12 ms of every cold start.
    const offenders = sources('src').flatMap(zodCallsAtLoad);
    expect(offenders).toEqual([]);
  });

  it('the check finds a schema built at load, and none inside a function', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'module-load-')), 'sample.ts');
    const sample = "import * as z from './zod.js';\nexport const eager = z.object({ a: z.string() });\nexport const lazy = () => z.object({ a: z.string() });\n";
    writeFileSync(file, sample);
    expect(zodCallsAtLoad(file)).toEqual([`${relative('.', file)}:2`]);
  });

  it('once builds its value on the first call only, and keeps it', () => {
    let builds = 0;
    const value = once(() => ({ built: ++builds }));
    expect(builds).toBe(0);
    expect(value()).toBe(value());
    expect(builds).toBe(1);
  });

  it('the bundles\' node:stream/web answers instanceof as the real ReadableStream does', () => {
    expect(new globalThis.ReadableStream() instanceof LazyReadableStream).toBe(true);
    expect({ getReader: () => undefined } instanceof LazyReadableStream).toBe(false);
  });
});
