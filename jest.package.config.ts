import type { Config } from 'jest';
import base, { PACKAGE_SPECS } from './jest.config';

/** `npm run test:package`: the packed package's checks (publint, attw, its contents) and the consumer apps. */
const config: Config = {
  ...base,
  testMatch: PACKAGE_SPECS,
  testPathIgnorePatterns: ['/node_modules/'],
};

export default config;
