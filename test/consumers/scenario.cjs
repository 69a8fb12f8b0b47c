// What every consumer app does with the packed library, whichever Nest and module system it runs: configure and
// configureAsync (with @nestjs/config), inject StsService into its own provider, and call a local STS endpoint
// started through the testing kit it installed (`nestjs-aws-sts/testing`), whose fakes it also uses.
// Each app passes in the modules it loaded its own way (require or import), so this file tests what they loaded.
'use strict';
const assert = require('node:assert/strict');

const ROLE_ARN = 'arn:aws:iam::222222222222:role/TenantAccess';
const DENIED_ROLE_ARN = 'arn:aws:iam::333333333333:role/TrustsSomeoneElse';
const EXTERNAL_ID = 'tenant-external-id-1';

/**
 * A local STS started through the app's own `nestjs-aws-sts/testing` (`testing`), with a role that trusts its base
 * identity with an ExternalId and one that trusts another account; `run` gets it, and it is closed after.
 */
async function withLocalSts(testing, run) {
  const server = await testing.startLocalSts({
    roles: [
      { arn: ROLE_ARN, trustedPrincipals: ['arn:aws:iam::111111111111:root'], externalId: EXTERNAL_ID },
      { arn: DENIED_ROLE_ARN, trustedPrincipals: ['arn:aws:iam::999999999999:root'] },
    ],
  });
  const { accessKeyId, secretAccessKey, account } = server.baseIdentity;
  try {
    await run({
      server,
      endpoint: server.endpoint,
      credentials: { accessKeyId, secretAccessKey },
      account,
      roleArn: ROLE_ARN,
      externalId: EXTERNAL_ID,
      deniedRoleArn: DENIED_ROLE_ARN,
    });
  } finally {
    await server.close();
  }
}

/** An app provider that gets StsService injected, as `constructor(private readonly sts: StsService)` would. */
function tenantAccessProvider(library) {
  return {
    provide: 'TenantAccess',
    inject: [library.StsService],
    useFactory: (sts) => ({ credentialsFor: (request) => sts.getCredentials(request), sts }),
  };
}

/** `ServerAwsStsModule.configure(...)`: who am I, cached credentials for a tenant, and a refused role. */
function configureScenario({ library, testing, Test }) {
  return withLocalSts(testing, (sts) => configureAgainst(sts, { library, Test }));
}

async function configureAgainst(sts, { library, Test }) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      library.ServerAwsStsModule.configure({
        AWS_REGION: 'us-east-1',
        credentials: sts.credentials,
        clientConfig: { endpoint: sts.endpoint },
      }),
    ],
    providers: [tenantAccessProvider(library)],
  }).compile();
  try {
    const tenantAccess = moduleRef.get('TenantAccess');
    assert.ok(tenantAccess.sts instanceof library.StsService);

    const identity = await tenantAccess.sts.getCallerIdentity();
    assert.equal(identity.account, sts.account);

    const request = { roleArn: sts.roleArn, externalId: sts.externalId };
    const credentials = await tenantAccess.credentialsFor(request);
    assert.equal(credentials.accountId, sts.roleArn.split(':')[4]);
    assert.equal(await tenantAccess.credentialsFor(request), credentials, 'the second call is a cache hit');
    assert.ok(!JSON.stringify(credentials).includes(credentials.secretAccessKey), 'JSON never shows the secret');

    const refused = await tenantAccess.credentialsFor({ roleArn: sts.deniedRoleArn, externalId: sts.externalId }).then(
      () => assert.fail('AssumeRole of a role that does not trust the app resolved'),
      (error) => error,
    );
    assert.ok(refused instanceof library.StsError, 'the error is the StsError class the app imported');
    assert.equal(refused.code, 'AccessDenied');
    assert.equal(refused.retryable, false);
  } finally {
    await moduleRef.close();
  }
}

/** `ServerAwsStsModule.configureAsync(...)` fed by `@nestjs/config`'s ConfigService. */
function configureAsyncScenario({ library, testing, Test, ConfigModule, ConfigService }) {
  return withLocalSts(testing, (sts) => configureAsyncAgainst(sts, { library, Test, ConfigModule, ConfigService }));
}

async function configureAsyncAgainst(sts, { library, Test, ConfigModule, ConfigService }) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      library.ServerAwsStsModule.configureAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ STS_ENDPOINT: sts.endpoint, AWS_REGION: 'eu-west-1' })] })],
        inject: [ConfigService],
        useFactory: (config) =>
          new library.ServerAwsStsConfig({
            AWS_REGION: config.get('AWS_REGION'),
            credentials: sts.credentials,
            clientConfig: { endpoint: config.get('STS_ENDPOINT') },
          }),
      }),
    ],
    providers: [tenantAccessProvider(library)],
  }).compile();
  try {
    const tenantAccess = moduleRef.get('TenantAccess');
    assert.equal((await tenantAccess.sts.getCallerIdentity()).account, sts.account);
    assert.equal(await moduleRef.get(library.STS_CLIENT).config.region(), 'eu-west-1');
    const credentials = await tenantAccess.credentialsFor({ roleArn: sts.roleArn, externalId: sts.externalId });
    assert.ok(credentials instanceof library.TemporaryCredentials);
  } finally {
    await moduleRef.close();
  }
}

/** `overrideProvider(STS_CLIENT)` with the kit's `fakeStsClient()`: the module's cache runs on in-process answers. */
async function overrideClientScenario({ library, testing, Test }) {
  const moduleRef = await Test.createTestingModule({ imports: [library.ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1' })] })
    .overrideProvider(library.STS_CLIENT)
    .useValue(testing.fakeStsClient({ identity: { account: '999999999999' } }))
    .compile();
  try {
    const sts = moduleRef.get(library.StsService);
    assert.equal(await sts.getAccountId(), '999999999999');
    const credentials = await sts.getCredentials({ roleArn: ROLE_ARN });
    assert.ok(credentials instanceof library.TemporaryCredentials, 'the fake builds the TemporaryCredentials class the app imported');
    assert.equal(credentials.accountId, '222222222222');
    assert.equal(await sts.getCredentials({ roleArn: ROLE_ARN }), credentials, 'the second call is a cache hit');
  } finally {
    await moduleRef.close();
  }
}

/** `overrideProvider(StsService)` with the kit's `fakeStsService()`: a refused role is the app's own StsError. */
async function fakeServiceScenario({ library, testing, Test }) {
  const fake = testing.fakeStsService();
  const moduleRef = await Test.createTestingModule({
    imports: [library.ServerAwsStsModule.configure({})],
    providers: [tenantAccessProvider(library)],
  })
    .overrideProvider(library.StsService)
    .useValue(fake)
    .compile();
  try {
    const tenantAccess = moduleRef.get('TenantAccess');
    assert.equal((await tenantAccess.credentialsFor({ roleArn: ROLE_ARN })).accountId, '222222222222');
    fake.refuseRole(DENIED_ROLE_ARN);
    const refused = await tenantAccess.credentialsFor({ roleArn: DENIED_ROLE_ARN }).then(
      () => assert.fail('a refused role resolved'),
      (error) => error,
    );
    assert.ok(refused instanceof library.StsError, 'the error is the StsError class the app imported');
    assert.equal(refused.code, 'AccessDenied');
    assert.deepEqual(
      fake.calls.map((call) => call.roleArn),
      [ROLE_ARN, DENIED_ROLE_ARN],
    );
  } finally {
    await moduleRef.close();
  }
}

/**
 * `nestjs-aws-sts/terminus`: StsHealthIndicator in a Terminus HealthCheckService, as the README wires it (a module
 * importing TerminusModule and ServerAwsStsModule, the indicator a provider). `terminus` is the subpath the app
 * loaded, `Terminus` the app's own `@nestjs/terminus` (11: CommonJS; 12: ES modules only). Nest resolves the
 * indicator's StsService only if the subpath shares the library build the app loaded.
 */
function healthScenario({ library, testing, terminus, Terminus, Test }) {
  return withLocalSts(testing, (sts) => healthAgainst(sts, { library, terminus, Terminus, Test }));
}

async function healthAgainst(sts, { library, terminus, Terminus, Test }) {
  const healthApp = async (credentials) => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        Terminus.TerminusModule,
        library.ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials,
          clientConfig: { endpoint: sts.endpoint, maxAttempts: 1 },
        }),
      ],
      providers: [terminus.StsHealthIndicator],
    }).compile();
    const health = moduleRef.get(Terminus.HealthCheckService);
    const indicator = moduleRef.get(terminus.StsHealthIndicator);
    const calls = [];
    moduleRef.get(library.StsService).events$.subscribe((event) => event.type === 'sts-call' && calls.push(event.operation));
    return { moduleRef, calls, check: () => health.check([() => indicator.isHealthy()]) };
  };

  const up = await healthApp(sts.credentials);
  try {
    const result = await up.check();
    assert.equal(result.status, 'ok');
    assert.deepEqual(Object.keys(result.details), ['sts']);
    const { status, account, arn, entries, inflight, refreshFailures } = result.details.sts;
    assert.deepEqual(
      { status, account, entries, inflight, refreshFailures },
      { status: 'up', account: sts.account, entries: 0, inflight: 0, refreshFailures: 0 },
    );
    assert.match(arn, new RegExp(`^arn:aws:iam::${sts.account}:`));
    await up.check();
    await up.check();
    assert.deepEqual(up.calls, ['GetCallerIdentity'], 'three probes, one STS call: the answer is reused for maxAgeSeconds');
  } finally {
    await up.moduleRef.close();
  }

  const secretAccessKey = 'consumer-planted-secret-key-0123456789';
  const down = await healthApp({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey });
  try {
    const failure = await down.check().then(
      () => assert.fail('the health check passed with a base key STS does not know'),
      (error) => error,
    );
    assert.equal(failure.getStatus(), 503, 'Terminus answers 503 when an indicator is down');
    const result = failure.getResponse();
    assert.equal(result.status, 'error');
    assert.equal(result.error.sts.status, 'down');
    assert.equal(result.error.sts.code, 'InvalidClientTokenId');
    assert.match(result.error.sts.hint, /base access key/);
    assert.ok(!JSON.stringify(result).includes(secretAccessKey), 'the health result never shows a secret');
  } finally {
    await down.moduleRef.close();
  }
}

/**
 * An HTTP app as the README wires one: `sts.current` finds each request's tenant (resolved from a header, bound by
 * `StsTenantMiddleware`), and `StsExceptionFilter` turns a refusal into a 403 that names the code, never the
 * ExternalId or the role. `common` is the app's own `@nestjs/common` (decorators applied by hand: these apps are
 * plain JavaScript); the server is the app's `@nestjs/platform-express`, on a loopback port.
 */
function httpScenario({ library, testing, Test, common }) {
  return withLocalSts(testing, (sts) => httpAgainst(sts, { library, Test, common }));
}

async function httpAgainst(sts, { library, Test, common }) {
  class TenantController {
    constructor(service) {
      this.service = service;
    }
    async account() {
      return { accountId: (await this.service.current.getCredentials()).accountId };
    }
  }
  common.Inject(library.StsService)(TenantController, undefined, 0);
  common.Controller('account')(TenantController);
  common.Get()(TenantController.prototype, 'account', Object.getOwnPropertyDescriptor(TenantController.prototype, 'account'));
  class AppModule {
    configure(consumer) {
      consumer.apply(library.StsTenantMiddleware).forRoutes(TenantController);
    }
  }
  const tenants = {
    ok: { roleArn: sts.roleArn, externalId: sts.externalId },
    denied: { roleArn: sts.deniedRoleArn, externalId: sts.externalId },
  };
  const tenant = { resolve: (request) => tenants[request.headers['x-tenant']] };
  common.Module({
    imports: [
      library.ServerAwsStsModule.configure({
        AWS_REGION: 'us-east-1',
        credentials: sts.credentials,
        clientConfig: { endpoint: sts.endpoint },
        tenant,
      }),
    ],
    controllers: [TenantController],
  })(AppModule);

  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalFilters(new library.StsExceptionFilter());
  await app.listen(0, '127.0.0.1');
  try {
    const url = `http://127.0.0.1:${app.getHttpServer().address().port}/account`;
    const get = async (name) => {
      const response = await fetch(url, { headers: { 'x-tenant': name } });
      return { status: response.status, text: await response.text() };
    };
    const ok = await get('ok');
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.text), { accountId: sts.roleArn.split(':')[4] });
    const denied = await get('denied');
    assert.equal(denied.status, 403, 'a role that refuses the app is a 403, not a 500');
    assert.equal(JSON.parse(denied.text).code, 'AccessDenied');
    for (const secret of [sts.externalId, sts.deniedRoleArn])
      assert.ok(!denied.text.includes(secret), 'the answer names neither the ExternalId nor the role');
    // A request the resolver finds no tenant for is the app's own gap (NoRequestTenant): a bare 500, nothing named.
    const none = await get('unknown');
    assert.deepEqual(
      { status: none.status, body: JSON.parse(none.text) },
      { status: 500, body: { statusCode: 500, error: 'Internal Server Error' } },
    );
  } finally {
    await app.close();
  }
}

module.exports = { configureScenario, configureAsyncScenario, overrideClientScenario, fakeServiceScenario, healthScenario, httpScenario };
