/** ESM TypeScript under jest: ts-jest transpiles (isolatedModules); `tsc --noEmit` type-checks separately. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Its "import" build is ESM in .js files without "type": "module", which jest 29 reads as CommonJS.
    '^aws-sdk-client-mock-jest$': '<rootDir>/node_modules/aws-sdk-client-mock-jest/dist/cjs/jest.js',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/support/setup.ts'],
};
