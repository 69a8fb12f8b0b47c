require('reflect-metadata');
const { Test } = require('@nestjs/testing');
const { ConfigModule, ConfigService } = require('@nestjs/config');
const { AssumeRoleCommand, STSClient } = require('@aws-sdk/client-sts');
const { mockClient } = require('aws-sdk-client-mock');
const Terminus = require('@nestjs/terminus');
const library = require('nestjs-aws-sts');
const terminus = require('nestjs-aws-sts/terminus');
const { configureAsyncScenario, configureScenario, healthScenario, overrideClientScenario } = require('./scenario.cjs');

test('loads the CommonJS build', () => {
  expect(require.resolve('nestjs-aws-sts')).toMatch(/dist[\\/]cjs[\\/]index\.js$/);
  expect(require.resolve('nestjs-aws-sts/terminus')).toMatch(/dist[\\/]cjs[\\/]terminus[\\/]index\.js$/);
});

test('configure(): getCallerIdentity, getCredentials and AccessDenied against a local STS', () => configureScenario({ library, Test }));

test('configureAsync() with ConfigService', () => configureAsyncScenario({ library, Test, ConfigModule, ConfigService }));

test('overrideProvider(STS_CLIENT) replaces the client', () => overrideClientScenario({ library, Test }));

test('nestjs-aws-sts/terminus: StsHealthIndicator in a HealthCheckService (Terminus 11, CommonJS), up and down', () => healthScenario({ library, terminus, Terminus, Test }));

test("the README's testing recipe: with one copy of @aws-sdk/client-sts, mockClient(STSClient) reaches the module's client", async () => {
  const sts = mockClient(STSClient);
  try {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIAMOCKED', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) },
    });
    const moduleRef = await Test.createTestingModule({
      imports: [library.ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' } })],
    }).compile();
    const credentials = await moduleRef.get(library.StsService).getCredentials({ roleArn: 'arn:aws:iam::123456789012:role/TenantAccess' });
    expect(credentials.accessKeyId).toBe('ASIAMOCKED');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    await moduleRef.close();
  } finally {
    sts.restore();
  }
});
