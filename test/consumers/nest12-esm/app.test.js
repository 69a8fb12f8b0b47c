import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { ConfigModule, ConfigService } from '@nestjs/config';
import * as Terminus from '@nestjs/terminus';
import * as library from 'nestjs-aws-sts';
import * as terminus from 'nestjs-aws-sts/terminus';
import scenario from './scenario.cjs';

test('loads the ES module build', () => {
  expect(import.meta.resolve('nestjs-aws-sts')).toMatch(/dist\/esm\/index\.js$/);
  expect(import.meta.resolve('nestjs-aws-sts/terminus')).toMatch(/dist\/esm\/terminus\/index\.js$/);
});

test('configure(): getCallerIdentity, getCredentials and AccessDenied against a local STS', () => scenario.configureScenario({ library, Test }));

test('configureAsync() with ConfigService', () => scenario.configureAsyncScenario({ library, Test, ConfigModule, ConfigService }));

test('overrideProvider(STS_CLIENT) replaces the client', () => scenario.overrideClientScenario({ library, Test }));

test('nestjs-aws-sts/terminus: StsHealthIndicator in a HealthCheckService (Terminus 12, ES modules), up and down', () => scenario.healthScenario({ library, terminus, Terminus, Test }));
