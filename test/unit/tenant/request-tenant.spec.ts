/**
 * `sts.current` without HTTP: requests bound by calling `StsTenantMiddleware.use` directly, or by nestjs-cls's
 * `cls.run` (a job); STS is mocked (aws-sdk-client-mock) and counted. What the resolver's answer becomes (validated,
 * copied, kept for the request; a failure not kept), and the refusals outside a request or without a tenant.
 */
import { inspect } from 'node:util';
import { Test, type TestingModule } from '@nestjs/testing';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ClsModule, ClsService } from 'nestjs-cls';
import { ServerAwsStsModule, StsError, StsService, StsTenantMiddleware, StsValidationError } from '../../../src';
import type { AssumeRoleRequest, ServerAwsStsConfig } from '../../../src';
import { rejection } from '../../support/async-helpers';

const ACCOUNT = '123456789012';
const roleOf = (tenant: string): AssumeRoleRequest => ({
  roleArn: `arn:aws:iam::${ACCOUNT}:role/Tenant-${tenant}`,
  externalId: `ext-${tenant}-secret`,
});
const STATIC = { accessKeyId: 'AKIDBASE', secretAccessKey: 'base-secret' };

/** Runs `work` as the rest of an HTTP request carrying `x-tenant: tenant`, bound by the middleware. */
function inRequest<T>(tenant: string | undefined, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    new StsTenantMiddleware().use({ headers: { 'x-tenant': tenant } }, {}, () => work().then(resolve, reject));
  });
}

describe('sts.current (the tenant of the request)', () => {
  const sts = mockClient(STSClient);
  const modules: TestingModule[] = [];
  let issued = 0;

  beforeEach(() => {
    sts.reset();
    issued = 0;
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
      issued++;
      const expiration = new Date(Date.now() + 3_600_000);
      const AccessKeyId = `ASIA${input.RoleArn.split('-').pop()!.toUpperCase()}${issued}`;
      return { Credentials: { AccessKeyId, SecretAccessKey: 's', SessionToken: 't', Expiration: expiration } };
    });
  });
  afterEach(async () => {
    for (const moduleRef of modules.splice(0)) await moduleRef.close();
  });
  afterAll(() => sts.restore());

  async function stsWith(config: Partial<ServerAwsStsConfig>): Promise<StsService> {
    const module = ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: STATIC, ...config });
    const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
    await moduleRef.init();
    modules.push(moduleRef);
    return moduleRef.get(StsService);
  }

  const byHeader = (calls: { count: number }) => ({
    resolve: (request: { headers: Record<string, string | undefined> }) => {
      calls.count++;
      const tenant = request.headers['x-tenant'];
      return tenant === undefined ? undefined : roleOf(tenant);
    },
  });

  it('resolves once per request, at first use, and serves that tenant to every use in the request', async () => {
    const calls = { count: 0 };
    const service = await stsWith({ tenant: byHeader(calls) });
    const { current } = service;
    const threeUses = async () => [await current.getCredentials(), await current.role(), await current.getCredentials()] as const;
    const [a, b] = await Promise.all([inRequest('acme', threeUses), inRequest('globex', threeUses)]);
    expect(calls.count).toBe(2);
    expect(a[0].accessKeyId).toMatch(/^ASIAACME/);
    expect(a[2].accessKeyId).toBe(a[0].accessKeyId);
    expect(b[0].accessKeyId).toMatch(/^ASIAGLOBEX/);
    expect(a[1]).toEqual(roleOf('acme'));
    expect(b[1]).toEqual(roleOf('globex'));
  });

  it('refuses outside a request with NoRequestTenant and a hint on passing the tenant explicitly; the resolver is not called', async () => {
    const calls = { count: 0 };
    const service = await stsWith({ tenant: byHeader(calls) });
    const error = await rejection(service.current.getCredentials());
    expect(error).toBeInstanceOf(StsError);
    expect(error).toMatchObject({ code: 'NoRequestTenant', retryable: false, message: 'sts.current was used outside a request' });
    expect(error.hint).toContain('sts.clientFor(S3Client, { roleArn, externalId })');
    await expect(service.current.clientFor(STSClient)).rejects.toMatchObject({ code: 'NoRequestTenant' });
    expect(calls.count).toBe(0);
    expect(issued).toBe(0);
  });

  it('refuses without the tenant option, saying which option is missing', async () => {
    const service = await stsWith({});
    const error = await rejection(inRequest('acme', () => service.current.getCredentials()));
    expect(error).toMatchObject({ code: 'NoRequestTenant', message: expect.stringContaining('tenant: { resolve }') });
  });

  it('a request the resolver finds no tenant for is refused with NoRequestTenant, sending nothing', async () => {
    const service = await stsWith({ tenant: byHeader({ count: 0 }) });
    const error = await rejection(inRequest(undefined, () => service.current.getCredentials()));
    expect(error).toMatchObject({ code: 'NoRequestTenant', message: 'tenant.resolve found no tenant for this request' });
    expect(issued).toBe(0);
  });

  it('validates what the resolver answers (StsValidationError naming the field), never echoing its values', async () => {
    const service = await stsWith({ tenant: { resolve: () => ({ roleArn: 'not-an-arn', externalId: 'ext-secret-value' }) } });
    const error = await rejection<StsValidationError>(inRequest('acme', () => service.current.getCredentials()));
    expect(error).toBeInstanceOf(StsValidationError);
    expect(error.field).toBe('roleArn');
    expect(`${error.message} ${inspect(error)}`).not.toMatch(/not-an-arn|ext-secret-value/);
    expect(issued).toBe(0);
  });

  it('keeps no failure: a resolver that fails once is asked again at the next use in the request', async () => {
    let calls = 0;
    const service = await stsWith({
      tenant: {
        resolve: async () => {
          if (++calls === 1) throw new Error('tenant database unavailable');
          return roleOf('acme');
        },
      },
    });
    const [first, second] = await inRequest('acme', async () => {
      const failed = await rejection<Error>(service.current.role());
      return [failed, await service.current.role()] as const;
    });
    expect(first.message).toBe('tenant database unavailable');
    expect(second).toEqual(roleOf('acme'));
    expect(calls).toBe(2);
  });

  it('keeps a copy: changing the object the resolver returned does not change the tenant of a request under way', async () => {
    const shared = roleOf('acme');
    const service = await stsWith({ tenant: { resolve: () => shared } });
    const role = await inRequest('acme', async () => {
      await service.current.role();
      shared.roleArn = roleOf('globex').roleArn;
      return service.current.role();
    });
    expect(role.roleArn).toBe(roleOf('acme').roleArn);
  });

  it('two module configurations in one request each resolve with their own resolver', async () => {
    const one = await stsWith({ tenant: { resolve: () => roleOf('acme') } });
    const other = await stsWith({ tenant: { resolve: () => roleOf('globex') } });
    const roles = await inRequest('x', async () => [await one.current.role(), await other.current.role(), await one.current.role()]);
    expect(roles.map(({ roleArn }) => roleArn)).toEqual([roleOf('acme').roleArn, roleOf('globex').roleArn, roleOf('acme').roleArn]);
  });

  it('fails the bootstrap on a tenant option without a resolve function, naming the field', async () => {
    const module = ServerAwsStsModule.configure({ tenant: { resolve: 'header' } as never });
    const bootstrap = Test.createTestingModule({ imports: [module] }).compile();
    await expect(bootstrap).rejects.toMatchObject({
      code: 'InvalidConfiguration',
      message: expect.stringContaining('tenant.resolve must be a function'),
    });
  });

  it("with nestjs-cls set up by the app, a job's cls.run context serves the tenant its store names (no request: the resolver gets undefined)", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClsModule.forRoot({ global: true }),
        ServerAwsStsModule.configureAsync({
          inject: [ClsService],
          useFactory: (cls: ClsService) => ({
            AWS_REGION: 'us-east-1',
            credentials: STATIC,
            tenant: { resolve: (request: unknown) => (request === undefined ? roleOf(cls.get('tenantId')) : undefined) },
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    modules.push(moduleRef);
    const service = moduleRef.get(StsService);
    const cls = moduleRef.get(ClsService);
    const [credentials, store] = await cls.run(async () => {
      cls.set('tenantId', 'initech');
      return [await service.current.getCredentials(), `${inspect(cls.get(), { depth: 10 })} ${JSON.stringify(cls.get())}`] as const;
    });
    expect(credentials.accessKeyId).toMatch(/^ASIAINITECH/);
    // The library's part of the app's CLS store never shows the resolved role when the store is logged.
    expect(store).toContain('initech');
    expect(store).not.toMatch(/ext-initech-secret|Tenant-initech/);
    // Outside any context nestjs-cls keeps, still a refusal.
    await expect(service.current.role()).rejects.toMatchObject({ code: 'NoRequestTenant' });
  });

  it('never shows the resolver, the config or a resolved ExternalId when the service is inspected', async () => {
    const service = await stsWith({ tenant: { resolve: () => roleOf('acme') } });
    await inRequest('acme', () => service.current.getCredentials());
    expect(inspect(service, { depth: 10 })).not.toMatch(/ext-acme-secret|Tenant-acme/);
    expect(JSON.stringify(service.current)).toBe('{}');
  });
});
