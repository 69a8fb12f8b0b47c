require('reflect-metadata');
const { Test } = require('@nestjs/testing');
const { ConfigModule, ConfigService } = require('@nestjs/config');
const { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } = require('@aws-sdk/client-sts');
const { mockClient } = require('aws-sdk-client-mock');
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

test('loads the CommonJS build', () => {
  expect(require.resolve('nestjs-aws-sts')).toMatch(/dist[\\/]cjs[\\/]index\.js$/);
  expect(require.resolve('nestjs-aws-sts/terminus')).toMatch(/dist[\\/]cjs[\\/]terminus[\\/]index\.js$/);
  expect(require.resolve('nestjs-aws-sts/testing')).toMatch(/dist[\\/]cjs[\\/]testing[\\/]index\.js$/);
});

test("configure(): getCallerIdentity, getCredentials and AccessDenied against the kit's local STS", () =>
  configureScenario({ library, testing, Test }));

test('configureAsync() with ConfigService', () => configureAsyncScenario({ library, testing, Test, ConfigModule, ConfigService }));

test('overrideProvider(STS_CLIENT) with fakeStsClient()', () => overrideClientScenario({ library, testing, Test }));

test('overrideProvider(StsService) with fakeStsService()', () => fakeServiceScenario({ library, testing, Test }));

test('nestjs-aws-sts/terminus: StsHealthIndicator in a HealthCheckService (Terminus 11, CommonJS), up and down', () =>
  healthScenario({ library, testing, terminus, Terminus, Test }));

test('HTTP (platform-express): sts.current per request, StsExceptionFilter answering a refusal with 403', () =>
  httpScenario({ library, testing, Test, common }));

test("docs/testing.md: with one copy of @aws-sdk/client-sts, stsClientMockAnswers(mockClient(STSClient)) answers the module's client", async () => {
  const sts = testing.stsClientMockAnswers(mockClient(STSClient), { identity: { account: '444444444444' } });
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        library.ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' } }),
      ],
    }).compile();
    const service = moduleRef.get(library.StsService);
    const credentials = await service.getCredentials({ roleArn: 'arn:aws:iam::123456789012:role/TenantAccess' });
    expect(credentials.accountId).toBe('123456789012');
    expect(await service.getAccountId()).toBe('444444444444');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    await moduleRef.close();
  } finally {
    sts.restore();
  }
});
