import type { Config } from 'jest';

/**
 * The checks of the packed package (its contents, the README compiled against it, apps installing it on four Node
 * versions): they pack the library first, so they run in their own script (`npm run test:package`,
 * jest.package.config.ts), never in `npm test`.
 */
export const PACKAGE_SPECS = [
  '<rootDir>/test/package/consumers.e2e.spec.ts',
  '<rootDir>/test/package/package-manifest.spec.ts',
  '<rootDir>/test/package/readme.spec.ts',
];

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...PACKAGE_SPECS],
  // The library's relative imports name the .js files they compile to (ES modules need the extension).
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest', '<rootDir>/test/support/quiet-logs.ts'],
  testTimeout: 30_000,
  // Two workers on a 2-core machine (Jest's default is one fewer than the cores: one). Leaks of sockets and timers are
  // checked by `npm run test:handles` (--detectOpenHandles runs every file in one process, too slow for npm test).
  maxWorkers: 2,
};

export default config;
