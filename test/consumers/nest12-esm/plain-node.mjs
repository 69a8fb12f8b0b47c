// The same app under plain Node, outside Jest: Jest's resolver forgives ES module imports that Node refuses (a
// relative import without its extension), so the ES module build must also load and run here.
import 'reflect-metadata';
import { test } from 'node:test';
import { Test } from '@nestjs/testing';
import * as Terminus from '@nestjs/terminus';
import * as library from 'nestjs-aws-sts';
import * as terminus from 'nestjs-aws-sts/terminus';
import * as testing from 'nestjs-aws-sts/testing';
import scenario from './scenario.cjs';

test('plain Node: configure(), getCallerIdentity, getCredentials and AccessDenied', () =>
  scenario.configureScenario({ library, testing, Test }));

test('plain Node: overrideProvider(StsService) with fakeStsService()', () => scenario.fakeServiceScenario({ library, testing, Test }));

test('plain Node: nestjs-aws-sts/terminus health check', () => scenario.healthScenario({ library, testing, terminus, Terminus, Test }));
