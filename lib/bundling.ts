/** esbuild settings shared by the CDK functions and the benchmark, so the bench measures what ships. */
export const bundling = {
  minify: true,
  sourceMap: true,
  target: 'node22',
  format: 'esm' as const,
  mainFields: ['module', 'main'],
  // Some dependencies still `require()` Node built-ins; an ESM bundle needs a `require` of its own.
  banner: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
};
