/** ESM TypeScript under jest: ts-jest transpiles (isolatedModules); `tsc --noEmit` type-checks separately. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/support/setup.ts'],
};
