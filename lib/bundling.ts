/** esbuild settings shared by the CDK functions and the benchmark, so the bench measures what ships. */
export const bundling = {
  minify: true,
  sourceMap: true,
  target: 'node22',
  format: 'esm' as const,
  mainFields: ['module', 'main'],
  // The nodejs22.x runtime ships AWS SDK v3 (as CDK assumes by default): bundles leave it out.
  externalModules: ['@aws-sdk/*'],
  // Some dependencies still `require()` Node built-ins; an ESM bundle needs a `require` of its own.
  banner: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
};
