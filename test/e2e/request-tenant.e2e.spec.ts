/**
 * The tenant of the request, through a real Nest HTTP app (`@nestjs/platform-express` on loopback): 1,000 HTTP
 * requests across 50 tenants, 100 in flight at once, each handler pausing at random between its steps so the
 * requests interleave. Every handler signs an S3 request without naming its tenant — the even ones through
 * `sts.current.clientFor`, the odd ones through a singleton client built once on `sts.current.credentialProvider()` —
 * and the local S3 endpoint records which access key signed each. Every downstream request must be signed by the key of
 * its own HTTP request's tenant (each tenant's role, with its own ExternalId, gets distinct credentials from the
 * local STS). Run twice: with the library's `StsTenantMiddleware`, and with nestjs-cls's `ClsModule` instead.
 */
import { Controller, Get, Inject, Injectable, Module, Query, type MiddlewareConsumer, type NestModule, type Type } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ClsModule } from 'nestjs-cls';
import { Agent, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerAwsStsModule, StsService, StsTenantMiddleware, type AssumeRoleRequest } from '../../src';
import { startLocalServiceEndpoint, startLocalSts, type LocalServiceEndpoint, type LocalStsServer } from '../../src/testing';
import { seededRandom } from '../../src/testing/local-sts/seeded-random';

const ACCOUNT = '123456789012';
const TENANTS = 50;
const REQUESTS = 1_000;
const IN_FLIGHT = 100;
const tenantIds = Array.from({ length: TENANTS }, (_, index) => `t${index}`);
const roleOf = (tenant: string): AssumeRoleRequest => ({
  roleArn: `arn:aws:iam::${ACCOUNT}:role/Tenant-${tenant}`,
  externalId: `ext-${tenant}-secret`,
});

const S3_CONFIG = Symbol('S3_CONFIG');
const random = seededRandom(21);
/** A pause of 0–3 ms: another request's handler runs meanwhile. */
const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));

@Injectable()
class Files {
  static instances = 0;
  /** One client for every tenant: its credentials follow the request each send runs in. */
  readonly #shared: S3Client;

  constructor(
    private readonly sts: StsService,
    @Inject(S3_CONFIG) private readonly s3Config: { endpoint: string; region: string; forcePathStyle: boolean },
  ) {
    Files.instances++;
    this.#shared = new S3Client({ ...s3Config, credentials: sts.current.credentialProvider() });
  }

  /** Even requests sign with the tenant's pooled client, odd ones with the singleton client. */
  async list(id: number): Promise<void> {
    await this.sts.current.role(); // a first use: the later ones in the request must not resolve again
    await pause();
    const s3 = id % 2 === 0 ? await this.sts.current.clientFor(S3Client, this.s3Config) : this.#shared;
    await pause();
    await s3.send(new ListBucketsCommand({ Prefix: `r${id}.` }));
  }

  onModuleDestroy(): void {
    this.#shared.destroy();
  }
}

@Controller()
class FilesController {
  constructor(private readonly files: Files) {}

  @Get('files')
  async list(@Query('id') id: string): Promise<{ ok: true }> {
    await this.files.list(Number(id));
    return { ok: true };
  }
}

describe('the tenant of the request, through a real Nest HTTP app (1,000 interleaved requests, 50 tenants)', () => {
  let localSts: LocalStsServer;
  let endpoint: LocalServiceEndpoint;
  let app: INestApplication | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });

  beforeAll(async () => {
    localSts = await startLocalSts();
    for (const tenant of tenantIds) {
      const { roleArn, externalId } = roleOf(tenant);
      localSts.addRole({ arn: roleArn, externalId, trustedPrincipals: [localSts.baseIdentity.arn] });
    }
    endpoint = await startLocalServiceEndpoint();
  });
  beforeEach(() => {
    endpoint.reset();
    localSts.resetCalls();
    Files.instances = 0;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    agent.destroy();
    await endpoint.close();
    await localSts.close();
  });

  /** The app: its tenant resolver reads the `x-tenant` header (after an await, as a database lookup would). */
  async function start(binding: 'middleware' | 'nestjs-cls'): Promise<{ sts: StsService; url: string; resolutions: () => number }> {
    let resolutions = 0;
    const tenantModule = ServerAwsStsModule.configure({
      AWS_REGION: 'us-east-1',
      credentials: { accessKeyId: localSts.baseIdentity.accessKeyId, secretAccessKey: localSts.baseIdentity.secretAccessKey },
      clientConfig: { endpoint: localSts.endpoint },
      clients: { maxEntries: TENANTS },
      tenant: {
        resolve: async (request: { headers: Record<string, string | undefined> }) => {
          resolutions++;
          await pause();
          const tenant = request.headers['x-tenant'];
          return tenant === undefined ? undefined : roleOf(tenant);
        },
      },
    });
    const s3Config = { provide: S3_CONFIG, useValue: { endpoint: endpoint.url, region: 'us-east-1', forcePathStyle: true } };
    let appModule: Type<unknown>;
    if (binding === 'middleware') {
      @Module({ imports: [tenantModule], controllers: [FilesController], providers: [Files, s3Config] })
      class MiddlewareAppModule implements NestModule {
        configure(consumer: MiddlewareConsumer): void {
          consumer.apply(StsTenantMiddleware).forRoutes('*');
        }
      }
      appModule = MiddlewareAppModule;
    } else {
      @Module({
        imports: [ClsModule.forRoot({ global: true, middleware: { mount: true } }), tenantModule],
        controllers: [FilesController],
        providers: [Files, s3Config],
      })
      class ClsAppModule {}
      appModule = ClsAppModule;
    }
    const moduleRef = await Test.createTestingModule({ imports: [appModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { sts: app.get(StsService), url: `http://127.0.0.1:${port}`, resolutions: () => resolutions };
  }

  /** GET /files?id=<n> as tenant `tenant`, through the keep-alive agent; resolves to the status code. */
  function get(url: string, id: number, tenant: string): Promise<number> {
    return new Promise((resolve, reject) => {
      httpGet(`${url}/files?id=${id}`, { agent, headers: { 'x-tenant': tenant } }, (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      }).once('error', reject);
    });
  }

  it.each(['middleware', 'nestjs-cls'] as const)(
    'with %s: every downstream request is signed by its request tenant',
    async (binding) => {
      const { sts, url, resolutions } = await start(binding);
      const tenantOfRequest = Array.from({ length: REQUESTS }, () => tenantIds[Math.floor(random() * TENANTS)]!);
      const statuses: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < REQUESTS) {
          const id = next++;
          statuses[id] = await get(url, id, tenantOfRequest[id]!);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      // Each tenant's key, as the cache holds it now (nothing expired or refreshed during the run).
      const keyOf = new Map<string, string>();
      for (const tenant of new Set(tenantOfRequest)) keyOf.set(tenant, (await sts.getCredentials(roleOf(tenant))).accessKeyId);
      expect(new Set(keyOf.values()).size).toBe(keyOf.size);

      // The send of every request reached the endpoint (an SDK retry after a reset keep-alive socket may add some).
      expect(new Set(endpoint.requests.map(({ url: path }) => /prefix=r(\d+)\./.exec(path)?.[1])).size).toBe(REQUESTS);
      const wrong = endpoint.requests.filter(({ url: path, accessKeyId }) => {
        const [, id] = /prefix=r(\d+)\./.exec(path) ?? [];
        return id === undefined || keyOf.get(tenantOfRequest[Number(id)]!) !== accessKeyId;
      });
      expect(wrong).toEqual([]);
      // Resolved once per request (at first use), however many times the request used it; singletons stayed single.
      expect(resolutions()).toBe(REQUESTS);
      expect(Files.instances).toBe(1);
      expect(localSts.callCount('AssumeRole')).toBeLessThanOrEqual(keyOf.size);
    },
    180_000,
  );

  it('refuses outside a request (a timer) with a clear StsError, without calling the resolver', async () => {
    const { sts, resolutions } = await start('middleware');
    const outside = await new Promise<unknown>((resolve) => setTimeout(() => sts.current.getCredentials().then(resolve, resolve), 1));
    expect(outside).toMatchObject({ name: 'StsError', code: 'NoRequestTenant' });
    expect((outside as { hint: string }).hint).toMatch(/sts\.getCredentials\(\{ roleArn, externalId \}\)/);
    await expect(sts.current.credentialProvider()()).rejects.toMatchObject({ code: 'NoRequestTenant' });
    expect(resolutions()).toBe(0);
  });
});
