import 'reflect-metadata';
import * as common from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule, ConfigService } from '@nestjs/config';
import * as Terminus from '@nestjs/terminus';
import * as library from 'nestjs-aws-sts';
import * as terminus from 'nestjs-aws-sts/terminus';
import * as testing from 'nestjs-aws-sts/testing';
import scenario from './scenario.cjs';

test('loads the ES module build', () => {
  expect(import.meta.resolve('nestjs-aws-sts')).toMatch(/dist\/esm\/index\.js$/);
  expect(import.meta.resolve('nestjs-aws-sts/terminus')).toMatch(/dist\/esm\/terminus\/index\.js$/);
  expect(import.meta.resolve('nestjs-aws-sts/testing')).toMatch(/dist\/esm\/testing\/index\.js$/);
});

test("configure(): getCallerIdentity, getCredentials and AccessDenied against the kit's local STS", () =>
  scenario.configureScenario({ library, testing, Test }));

test('configureAsync() with ConfigService', () => scenario.configureAsyncScenario({ library, testing, Test, ConfigModule, ConfigService }));

test('overrideProvider(STS_CLIENT) with fakeStsClient()', () => scenario.overrideClientScenario({ library, testing, Test }));

test('overrideProvider(StsService) with fakeStsService()', () => scenario.fakeServiceScenario({ library, testing, Test }));

test('nestjs-aws-sts/terminus: StsHealthIndicator in a HealthCheckService (Terminus 12, ES modules), up and down', () =>
  scenario.healthScenario({ library, testing, terminus, Terminus, Test }));

test('HTTP (platform-express): sts.current per request, StsExceptionFilter answering a refusal with 403', () =>
  scenario.httpScenario({ library, testing, Test, common }));
