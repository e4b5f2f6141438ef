/**
 * Bundles the GitHub Actions into the `dist/` files their action.yml runs (checked in: a runner
 * runs the repository as it is, with no install step). Deterministic, so that a test can rebuild
 * in memory and compare: no timestamps, no source maps, paths relative to the project root.
 * `npm run build:actions` writes them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Each bundle, by its path from the project root, from its entry point. */
const entries = {
  'actions/cluster/dist/main.mjs': 'actions/cluster/main.ts',
  'actions/cluster/dist/post.mjs': 'actions/cluster/post.ts',
  'actions/test/dist/main.mjs': 'actions/test/main.ts',
};

/** The bundles' text by path from the project root. */
export async function bundleActions(): Promise<Map<string, string>> {
  const bundles = new Map<string, string>();
  for (const [out, entry] of Object.entries(entries)) {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      // What `runs.using: node20` gives.
      target: 'node20',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
      // Generated code is not linted (`eslint .` would read it). Some dependencies still `require()`
      // Node built-ins; an ESM bundle needs a `require` of its own.
      banner: { js: "/* eslint-disable */\nimport { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);" },
    });
    for (const file of result.outputFiles) bundles.set(relative(root, file.path), file.text);
  }
  return bundles;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, text] of await bundleActions()) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    console.log(`${path}: ${Math.round(text.length / 1024)} KB`);
  }
}
