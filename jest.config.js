import { motoCommand } from './test/support/moto-command.js';

/**
 * The moto suites (test/aws/) need `moto_server`: without it they are left out, saying so in one
 * line, unless PROVISIONER_REQUIRE_MOTO=1 (CI), where they run and fail for want of it.
 */
const motoMissing = !motoCommand() && process.env.PROVISIONER_REQUIRE_MOTO !== '1';
if (motoMissing) console.warn('test/aws/ left out: moto_server is not on PATH (pip install "moto[server]").');

/** ESM TypeScript under jest: ts-jest transpiles (isolatedModules); `tsc --noEmit` type-checks separately. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(motoMissing ? ['<rootDir>/test/aws/'] : [])],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Its "import" build is ESM in .js files without "type": "module", which jest 29 reads as CommonJS.
    '^aws-sdk-client-mock-jest$': '<rootDir>/node_modules/aws-sdk-client-mock-jest/dist/cjs/jest.js',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/support/setup.ts'],
};
