// What every consumer app does with the packed library, whichever Nest and module system it runs: configure and
// configureAsync (with @nestjs/config), inject StsService into its own provider, and call a local STS endpoint.
// Each app passes in the modules it loaded its own way (require or import), so this file tests what they loaded.
'use strict';
const assert = require('node:assert/strict');

/** The local STS endpoint, its base identity and roles, from the spec that started it. */
function localSts() {
  const { LOCAL_STS_ENDPOINT, LOCAL_STS_ACCESS_KEY_ID, LOCAL_STS_SECRET_ACCESS_KEY, LOCAL_STS_ACCOUNT, LOCAL_STS_ROLE_ARN, LOCAL_STS_EXTERNAL_ID, LOCAL_STS_DENIED_ROLE_ARN } = process.env;
  assert.ok(LOCAL_STS_ENDPOINT, 'run through test/consumers.e2e.spec.ts, which starts the local STS endpoint');
  return {
    endpoint: LOCAL_STS_ENDPOINT,
    credentials: { accessKeyId: LOCAL_STS_ACCESS_KEY_ID, secretAccessKey: LOCAL_STS_SECRET_ACCESS_KEY },
    account: LOCAL_STS_ACCOUNT,
    roleArn: LOCAL_STS_ROLE_ARN,
    externalId: LOCAL_STS_EXTERNAL_ID,
    deniedRoleArn: LOCAL_STS_DENIED_ROLE_ARN,
  };
}

/** An app provider that gets StsService injected, as `constructor(private readonly sts: StsService)` would. */
function tenantAccessProvider(library) {
  return { provide: 'TenantAccess', inject: [library.StsService], useFactory: (sts) => ({ credentialsFor: (request) => sts.getCredentials(request), sts }) };
}

/** `ServerAwsStsModule.configure(...)`: who am I, cached credentials for a tenant, and a refused role. */
async function configureScenario({ library, Test }) {
  const sts = localSts();
  const moduleRef = await Test.createTestingModule({
    imports: [library.ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: sts.credentials, clientConfig: { endpoint: sts.endpoint } })],
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
async function configureAsyncScenario({ library, Test, ConfigModule, ConfigService }) {
  const sts = localSts();
  const moduleRef = await Test.createTestingModule({
    imports: [
      library.ServerAwsStsModule.configureAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ STS_ENDPOINT: sts.endpoint, AWS_REGION: 'eu-west-1' })] })],
        inject: [ConfigService],
        useFactory: (config) =>
          new library.ServerAwsStsConfig({ AWS_REGION: config.get('AWS_REGION'), credentials: sts.credentials, clientConfig: { endpoint: config.get('STS_ENDPOINT') } }),
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

/** The README's first testing recipe: override STS_CLIENT, which works whichever copy of the SDK an app has. */
async function overrideClientScenario({ library, Test }) {
  const fakeClient = { send: async () => ({ Account: '999999999999', Arn: 'arn:aws:iam::999999999999:user/fake', UserId: 'AIDAFAKE' }), destroy: () => undefined };
  const moduleRef = await Test.createTestingModule({ imports: [library.ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1' })] })
    .overrideProvider(library.STS_CLIENT)
    .useValue(fakeClient)
    .compile();
  try {
    assert.equal(await moduleRef.get(library.StsService).getAccountId(), '999999999999');
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
async function healthScenario({ library, terminus, Terminus, Test }) {
  const sts = localSts();
  const healthApp = async (credentials) => {
    const moduleRef = await Test.createTestingModule({
      imports: [Terminus.TerminusModule, library.ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials, clientConfig: { endpoint: sts.endpoint, maxAttempts: 1 } })],
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
    assert.deepEqual({ status, account, entries, inflight, refreshFailures }, { status: 'up', account: sts.account, entries: 0, inflight: 0, refreshFailures: 0 });
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

module.exports = { configureScenario, configureAsyncScenario, overrideClientScenario, healthScenario };
