require('reflect-metadata');
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Test } = require('@nestjs/testing');
const { ConfigModule, ConfigService } = require('@nestjs/config');
const Terminus = require('@nestjs/terminus');
const library = require('nestjs-aws-sts');
const terminus = require('nestjs-aws-sts/terminus');
const { configureAsyncScenario, configureScenario, healthScenario, overrideClientScenario } = require('./scenario.cjs');

test('loads the CommonJS build, which requires Nest 12 as ES modules', () => {
  assert.match(require.resolve('nestjs-aws-sts'), /dist[\\/]cjs[\\/]index\.js$/);
  assert.match(require.resolve('nestjs-aws-sts/terminus'), /dist[\\/]cjs[\\/]terminus[\\/]index\.js$/);
});

test('configure(): getCallerIdentity, getCredentials and AccessDenied against a local STS', () => configureScenario({ library, Test }));

test('configureAsync() with ConfigService', () => configureAsyncScenario({ library, Test, ConfigModule, ConfigService }));

test('overrideProvider(STS_CLIENT) replaces the client', () => overrideClientScenario({ library, Test }));

test('nestjs-aws-sts/terminus: StsHealthIndicator in a HealthCheckService (Terminus 12 through require(esm)), up and down', () => healthScenario({ library, terminus, Terminus, Test }));
