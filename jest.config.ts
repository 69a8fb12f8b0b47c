import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // The library's relative imports name the .js files they compile to (ES modules need the extension).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Packs the library once, so specs can test the package an app installs.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest', '<rootDir>/test/support/quiet-logs.ts'],
  testTimeout: 30_000,
  // Every run checks that specs (and the library) leave no socket or timer open.
  detectOpenHandles: true,
};

export default config;
