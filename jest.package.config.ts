import type { Config } from 'jest';
import base, { PACKAGE_SPECS } from './jest.config';

/** `npm run test:package`: the packed package's checks (publint, attw, its contents, the README) and the consumer apps. */
const config: Config = {
  ...base,
  testMatch: PACKAGE_SPECS,
  testPathIgnorePatterns: ['/node_modules/'],
  // Packs the library once per change of its sources (cached), so the specs test the package an app installs.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};

export default config;
