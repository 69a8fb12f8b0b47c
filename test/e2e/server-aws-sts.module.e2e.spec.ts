import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { InjectStsClient, STS_CLIENT, ServerAwsStsConfig, ServerAwsStsModule, StsService } from '../../src';
import { BASE_CREDENTIALS, ROLE_ARN, assumeRoleOutput } from '../support/fixtures';

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());

/** A consumer's own provider that injects StsService, as an app would. */
@Injectable()
class TenantGateway {
  constructor(readonly sts: StsService) {}
  accessFor(roleArn: string, externalId: string) {
    return this.sts.assumeRole({ roleArn, externalId });
  }
}

/** A consumer's provider that sends its own STS commands through the module's client. */
@Injectable()
class RawStsCaller {
  constructor(@InjectStsClient() readonly client: STSClient) {}
  whoAmI() {
    return this.client.send(new GetCallerIdentityCommand({}));
  }
}

/** An app-level config service that the async factory injects. */
@Injectable()
class AppConfig {
  readonly stsConfig = new ServerAwsStsConfig({ AWS_REGION: 'eu-west-1', credentials: BASE_CREDENTIALS, EXTERNAL_ID: 'from-app-config' });
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class AppConfigModule {}

describe('ServerAwsStsModule', () => {
  it('configure(): a consumer module injects StsService and assumes a role', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS })],
      providers: [TenantGateway],
    }).compile();
    const credentials = await moduleRef.get(TenantGateway).accessFor(ROLE_ARN, 'tenant-1');
    expect(credentials.accountId).toBe('123456789012');
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: ROLE_ARN, ExternalId: 'tenant-1' });
    const client = moduleRef.get<STSClient>(STS_CLIENT);
    expect(client).toBeInstanceOf(STSClient);
    expect(moduleRef.get(StsService).stsClient).toBe(client);
    expect(await client.config.region()).toBe('us-east-1');
    await moduleRef.close();
  });

  it('configureAsync(): an injected factory from an imported module supplies the config', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configureAsync({
          imports: [AppConfigModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => config.stsConfig,
        }),
      ],
      providers: [TenantGateway],
    }).compile();
    await moduleRef.get(StsService).assumeRole({ roleArn: ROLE_ARN });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { ExternalId: 'from-app-config' });
    expect(await moduleRef.get<STSClient>(STS_CLIENT).config.region()).toBe('eu-west-1');
    await moduleRef.close();
  });

  it('configureAsync({ useClass }) builds the config from a factory class', async () => {
    class StsConfigFactory {
      createStsConfig(): ServerAwsStsConfig {
        return new ServerAwsStsConfig({ AWS_REGION: 'ap-southeast-2', credentials: BASE_CREDENTIALS });
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configureAsync({ useClass: StsConfigFactory })],
    }).compile();
    expect(await moduleRef.get<STSClient>(STS_CLIENT).config.region()).toBe('ap-southeast-2');
    await moduleRef.close();
  });

  it('isGlobal makes StsService injectable in modules that do not import it', async () => {
    @Module({ providers: [TenantGateway], exports: [TenantGateway] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, isGlobal: true }), FeatureModule],
    }).compile();
    expect(moduleRef.get(TenantGateway).sts).toBeInstanceOf(StsService);
    await moduleRef.close();
  });

  it('without isGlobal, a module that does not import it cannot inject StsService', async () => {
    @Module({ providers: [TenantGateway] })
    class FeatureModule {}
    const compile = Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ credentials: BASE_CREDENTIALS }), FeatureModule],
    }).compile();
    await expect(compile).rejects.toThrow(/StsService/);
  });

  it("InjectStsClient() injects the module's STSClient, and an overridden STS_CLIENT reaches it too", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ credentials: BASE_CREDENTIALS })],
      providers: [RawStsCaller],
    }).compile();
    expect(moduleRef.get(RawStsCaller).client).toBe(moduleRef.get(STS_CLIENT));
    expect(moduleRef.get(RawStsCaller).client).toBe(moduleRef.get(StsService).stsClient);
    await moduleRef.close();

    const fake = { send: jest.fn().mockResolvedValue({ Account: '999999999999' }), destroy: jest.fn() };
    const overridden = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ credentials: BASE_CREDENTIALS })],
      providers: [RawStsCaller],
    })
      .overrideProvider(STS_CLIENT)
      .useValue(fake)
      .compile();
    await expect(overridden.get(RawStsCaller).whoAmI()).resolves.toEqual({ Account: '999999999999' });
    await overridden.close();
  });

  it('lets tests override STS_CLIENT', async () => {
    const fake = {
      send: jest.fn().mockResolvedValue({ Account: '999999999999', Arn: 'arn:aws:iam::999999999999:user/fake', UserId: 'AIDAFAKE' }),
      destroy: jest.fn(),
    };
    const moduleRef = await Test.createTestingModule({ imports: [ServerAwsStsModule.configure({ credentials: BASE_CREDENTIALS })] })
      .overrideProvider(STS_CLIENT)
      .useValue(fake)
      .compile();
    await expect(moduleRef.get(StsService).getAccountId()).resolves.toBe('999999999999');
    expect(fake.send).toHaveBeenCalledWith(
      expect.any(GetCallerIdentityCommand),
      expect.objectContaining({ abortSignal: expect.any(AbortSignal) }),
    );
    await moduleRef.close();
    expect(fake.destroy).toHaveBeenCalled();
  });

  it('forRoot() / forRootAsync() are configure() / configureAsync() under the names Nest users look for', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    @Module({ providers: [TenantGateway], exports: [TenantGateway] })
    class FeatureModule {}
    const sync = await Test.createTestingModule({
      imports: [ServerAwsStsModule.forRoot({ AWS_REGION: 'eu-central-1', credentials: BASE_CREDENTIALS, isGlobal: true }), FeatureModule],
    }).compile();
    expect(sync.get(TenantGateway).sts).toBeInstanceOf(StsService);
    expect(await sync.get<STSClient>(STS_CLIENT).config.region()).toBe('eu-central-1');
    await sync.close();

    const async = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.forRootAsync({
          imports: [AppConfigModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => config.stsConfig,
        }),
      ],
      providers: [TenantGateway],
    }).compile();
    await async.get(TenantGateway).accessFor(ROLE_ARN, 'tenant-7');
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { ExternalId: 'tenant-7' });
    expect(await async.get<STSClient>(STS_CLIENT).config.region()).toBe('eu-west-1');
    await async.close();

    const withoutGlobal = Test.createTestingModule({
      imports: [ServerAwsStsModule.forRoot({ credentials: BASE_CREDENTIALS }), FeatureModule],
    }).compile();
    await expect(withoutGlobal).rejects.toThrow(/StsService/);
    const bad = Test.createTestingModule({
      imports: [ServerAwsStsModule.forRootAsync({ useFactory: () => ({ AWS_REGION: 'nowhere' }) })],
    }).compile();
    await expect(bad).rejects.toThrow('Invalid ServerAwsStsConfig: AWS_REGION must be a region name such as us-east-1');
  });

  it('fails the bootstrap with one message naming each bad field', async () => {
    const compile = Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          MAX_SESSION_DURATION: 50_000,
          DEFAULT_SESSION_DURATION: 100,
          EXTERNAL_ID: 'x',
          AWS_REGION: 'nowhere',
        }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(
      'Invalid ServerAwsStsConfig: AWS_REGION must be a region name such as us-east-1; MAX_SESSION_DURATION must be an integer between 900 and 43200; DEFAULT_SESSION_DURATION must be an integer between 900 and MAX_SESSION_DURATION; EXTERNAL_ID must be 2–1224 characters of [\\w+=,.@:/-]',
    );
  });
});
