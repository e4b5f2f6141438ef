import { buildSync } from 'esbuild';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Builds the web console: one minified script and one style sheet, named by the hash of their
 * content, and the page that loads them. Returns name → text. CDK ships this beside the console's
 * functions and the local runtime builds it on first request, so both serve the same bytes.
 */
export function buildConsole(): Map<string, string> {
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: { app: 'src/main.ts', console: 'console.css' },
    entryNames: '[name]-[hash]',
    outdir: 'out',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    tsconfig: 'tsconfig.json',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, string>();
  const named: Record<string, string> = {};
  for (const output of result.outputFiles) {
    const name = basename(output.path);
    files.set(name, output.text);
    named[extname(name)] = name;
  }
  const page = readFileSync(`${root}index.html`, 'utf8').replace('{{script}}', `/console/${named['.js']}`).replace('{{styles}}', `/console/${named['.css']}`);
  files.set('index.html', page);
  return files;
}
