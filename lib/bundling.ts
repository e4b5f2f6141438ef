/** esbuild settings shared by the CDK functions and the benchmark, so the bench measures what ships. */
export const bundling = {
  minify: true,
  // Maps ship beside each bundle for decoding a stack trace, but Lambda does not load them
  // (no --enable-source-maps): parsing a whole-SDK map costs more than the rest of the cold start.
  sourceMap: true,
  sourcesContent: false,
  target: 'node22',
  format: 'esm' as const,
  // ESM builds first: esbuild tree-shakes them, and the SDK's are much smaller than its CommonJS.
  mainFields: ['module', 'main'],
  // The AWS SDK is bundled: the runtime's copy loads file by file, twice as slow as the bundle. The
  // clients imported on first use (by a backend call, not every request) stay with the runtime's
  // SDK: bundled, their code would be parsed at every cold start (a run function was 800 KB).
  // The S3 presigner is not in the runtime, so it is bundled.
  externalModules: ['@aws-sdk/client-ec2', '@aws-sdk/client-scheduler', '@aws-sdk/client-ecs', '@aws-sdk/client-s3', '@aws-sdk/client-ssm'],
  // Every client imports the default credential chain even when given `credentials`; in Lambda the
  // environment is the whole chain (see src/runtime/aws/credentials.ts). Paths are from the project root.
  // Node's web streams are loaded only if a response streams (see src/runtime/web-streams.ts).
  alias: { '@aws-sdk/credential-provider-node': './src/runtime/aws/credentials.ts', 'node:stream/web': './src/runtime/web-streams.ts' },
  // Some dependencies still `require()` Node built-ins; an ESM bundle needs a `require` of its own.
  banner: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
};
