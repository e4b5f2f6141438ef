import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BundledConsoleFiles } from '../../src/adapters/aws/bundled-console-files.js';
import { BuiltConsoleFiles } from '../../src/adapters/local/console-files.js';
import { buildConsole } from '../../web/build.js';

describe('the console build', () => {
  const files = buildConsole();

  it('is at most 100 KB gzipped in total', () => {
    const gzipped = [...files.values()].reduce((sum, text) => sum + gzipSync(text).length, 0);
    expect(gzipped).toBeLessThanOrEqual(100 * 1024);
  });

  it('is a page, one hashed script and one hashed style sheet, and the page loads only those, with no inline script', () => {
    const names = [...files.keys()].sort();
    expect(names).toEqual([expect.stringMatching(/^app-\w+\.js$/), expect.stringMatching(/^console-\w+\.css$/), 'index.html']);
    const page = files.get('index.html') ?? '';
    expect(page).toContain(`src="/console/${names[0]}"`);
    expect(page).toContain(`href="/console/${names[1]}"`);
    expect([...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual([`<script type="module" src="/console/${names[0]}">`]);
    expect(page).not.toMatch(/\son\w+=/i);
  });

  it('never writes API values as HTML: no innerHTML, outerHTML, insertAdjacentHTML or document.write in the script', () => {
    const script = [...files.entries()].find(([name]) => name.endsWith('.js'))?.[1] ?? '';
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('is the same bytes locally (built on first request) and in AWS (the file set shipped beside the bundle)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'console-set-')), 'console.json');
    writeFileSync(path, JSON.stringify(Object.fromEntries(buildConsole())));

    const [local, shipped] = await Promise.all([new BuiltConsoleFiles().files(), new BundledConsoleFiles(path).files()]);

    expect(new Map(local)).toEqual(new Map(shipped));
    expect(new Map(local)).toEqual(files);
  });
});
