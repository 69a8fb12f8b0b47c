require('reflect-metadata');
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Test } = require('@nestjs/testing');
const { ConfigModule, ConfigService } = require('@nestjs/config');
const Terminus = require('@nestjs/terminus');
const library = require('nestjs-aws-sts');
const terminus = require('nestjs-aws-sts/terminus');
const testing = require('nestjs-aws-sts/testing');
const common = require('@nestjs/common');
const {
  configureAsyncScenario,
  configureScenario,
  fakeServiceScenario,
  healthScenario,
  httpScenario,
  overrideClientScenario,
} = require('./scenario.cjs');

test('loads the CommonJS build, which requires Nest 12 as ES modules', () => {
  assert.match(require.resolve('nestjs-aws-sts'), /dist[\\/]cjs[\\/]index\.js$/);
  assert.match(require.resolve('nestjs-aws-sts/terminus'), /dist[\\/]cjs[\\/]terminus[\\/]index\.js$/);
  assert.match(require.resolve('nestjs-aws-sts/testing'), /dist[\\/]cjs[\\/]testing[\\/]index\.js$/);
});

test("configure(): getCallerIdentity, getCredentials and AccessDenied against the kit's local STS", () =>
  configureScenario({ library, testing, Test }));

test('configureAsync() with ConfigService', () => configureAsyncScenario({ library, testing, Test, ConfigModule, ConfigService }));

test('overrideProvider(STS_CLIENT) with fakeStsClient()', () => overrideClientScenario({ library, testing, Test }));

test('overrideProvider(StsService) with fakeStsService()', () => fakeServiceScenario({ library, testing, Test }));

test('nestjs-aws-sts/terminus: StsHealthIndicator in a HealthCheckService (Terminus 12 through require(esm)), up and down', () =>
  healthScenario({ library, testing, terminus, Terminus, Test }));

test('HTTP (platform-express): sts.current per request, StsExceptionFilter answering a refusal with 403', () =>
  httpScenario({ library, testing, Test, common }));
