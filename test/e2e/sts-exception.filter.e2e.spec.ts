/**
 * StsExceptionFilter through a real HTTP server: a Nest app on Express and on Fastify, the filter registered with
 * `useGlobalFilters` and as an `APP_FILTER`, requests sent over loopback, the library calling the local STS endpoint.
 * What is asserted is what the app's client receives and what the app's logs hold.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import {
  Controller,
  ForbiddenException,
  Get,
  Module,
  Query,
  Res,
  type ArgumentsHost,
  type INestApplication,
  type LoggerService,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ServerAwsStsModule, StsError, StsExceptionFilter, StsHttpException, StsService } from '../../src';
import { StsHealthIndicator } from '../../src/terminus';
import { hintFor } from '../../src/errors/error-codes';
import { startLocalSts, type LocalStsServer } from '../../src/testing';

const TENANT_ACCOUNT = '987654321098';
/** Two tenants' roles, each demanding its own ExternalId (one per route, so the library's repeat counting stays out). */
const TENANT_ROLE = `arn:aws:iam::${TENANT_ACCOUNT}:role/PlantedTenantRole`;
const STORAGE_ROLE = `arn:aws:iam::${TENANT_ACCOUNT}:role/PlantedStorageRole`;
const EXTERNAL_ID = 'planted-external-id-51c7';
const REQUEST_ID = /^[0-9a-f-]{36}$/;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One GET on a fresh connection (no keep-alive socket outlives the spec). */
function get(app: INestApplication, path: string): Promise<Answer> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The app's logger: every line with its level and context, as Nest hands them over. */
function recordingLogger() {
  const lines: Array<{ level: string; context: unknown; text: string }> = [];
  const keep =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) =>
      lines.push({ level, context: rest.at(-1), text: format(message, ...rest) });
  const logger: LoggerService = {
    log: keep('log'),
    error: keep('error'),
    warn: keep('warn'),
    debug: keep('debug'),
    verbose: keep('verbose'),
    fatal: keep('fatal'),
  };
  return {
    logger,
    lines,
    problems: () => lines.filter((line) => line.level === 'warn' || line.level === 'error' || line.level === 'fatal'),
  };
}

@Controller()
class TenantController {
  constructor(
    private readonly sts: StsService,
    private readonly health: StsHealthIndicator,
  ) {}

  /** Credentials for the tenant's role with the ExternalId the request names. */
  @Get('access')
  async access(@Query('externalId') externalId: string) {
    const credentials = await this.sts.getCredentials({ roleArn: TENANT_ROLE, externalId });
    return { expiration: credentials.expiration };
  }

  /** The Quick start's path: an S3 client acting as the tenant's role. */
  @Get('buckets')
  buckets(@Query('externalId') externalId: string) {
    return this.sts.clientFor(S3Client, { roleArn: STORAGE_ROLE, externalId }).send(new ListBucketsCommand({}));
  }

  @Get('health')
  check(@Query('maxAgeSeconds') maxAgeSeconds: string) {
    return this.health.isHealthy('sts', { maxAgeSeconds: Number(maxAgeSeconds) });
  }

  @Get('not-sts')
  notSts(): never {
    throw new Error('a bug of the app');
  }

  @Get('app-forbidden')
  appForbidden(): never {
    throw new ForbiddenException('the app says no');
  }

  /** A handler that started its answer itself before failing. */
  @Get('partial')
  partial(
    @Res()
    response: { raw?: NodeJS.WritableStream & { writeHead(status: number): void } } & NodeJS.WritableStream & {
        writeHead(status: number): void;
      },
  ): never {
    const node = response.raw ?? response;
    node.writeHead(200);
    node.write('partial ');
    throw new StsError('Rate exceeded', { code: 'Throttling', operation: 'AssumeRole', retryable: true });
  }
}

const platforms = [
  ['Express', () => new ExpressAdapter()],
  ['Fastify', () => new FastifyAdapter()],
] as const;
const registrations = ['useGlobalFilters(new StsExceptionFilter())', 'APP_FILTER'] as const;

let sts: LocalStsServer;
beforeAll(async () => {
  sts = await startLocalSts();
  for (const arn of [TENANT_ROLE, STORAGE_ROLE]) sts.addRole({ arn, trustedPrincipals: [sts.baseIdentity.arn], externalId: EXTERNAL_ID });
});
afterAll(() => sts.close());

describe.each(platforms)('StsExceptionFilter on %s', (_platform, adapter) => {
  describe.each(registrations)('registered with %s', (registration) => {
    let app: INestApplication;
    let logs: ReturnType<typeof recordingLogger>;
    /** What the client may never see: the ExternalIds, the tenant's identity, AWS's own message and who the base identity is. */
    let planted: string[];
    /** Each test sends its own ExternalId, so each is its own cache key. */
    let externalIds = 0;
    const wrongExternalId = () => `planted-wrong-id-${++externalIds}`;

    beforeAll(async () => {
      const filters: Provider[] = registration === 'APP_FILTER' ? [{ provide: APP_FILTER, useClass: StsExceptionFilter }] : [];
      @Module({
        imports: [
          TerminusModule,
          ServerAwsStsModule.configure({
            AWS_REGION: 'us-east-1',
            credentials: { accessKeyId: sts.baseIdentity.accessKeyId, secretAccessKey: sts.baseIdentity.secretAccessKey },
            clientConfig: {
              endpoint: sts.endpoint,
              maxAttempts: 1,
              requestHandler: { requestTimeout: 1_000, throwOnRequestTimeout: true },
            },
          }),
        ],
        controllers: [TenantController],
        providers: [StsHealthIndicator, ...filters],
      })
      class AppModule {}
      logs = recordingLogger();
      app = await NestFactory.create(AppModule, adapter(), { logger: logs.logger, abortOnError: false });
      if (registration !== 'APP_FILTER') app.useGlobalFilters(new StsExceptionFilter());
      await app.listen(0, '127.0.0.1');
      planted = [
        EXTERNAL_ID,
        'planted-wrong-id',
        TENANT_ACCOUNT,
        TENANT_ROLE,
        'PlantedTenantRole',
        'PlantedStorageRole',
        sts.baseIdentity.arn,
        'not authorized',
      ];
    });
    afterAll(() => app.close());
    beforeEach(() => {
      logs.lines.length = 0;
      sts.clearFaults();
    });

    const expectNothingPlanted = (answer: Answer) => {
      const shown = `${JSON.stringify(answer.headers)}\n${answer.text}`;
      for (const secret of planted) expect(shown).not.toContain(secret);
    };

    it("a tenant's role refusing the ExternalId: 403 with the code and the hint, logged once by the library", async () => {
      const answer = await get(app, `/access?externalId=${wrongExternalId()}`);
      expect(answer.status).toBe(403);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.headers['retry-after']).toBeUndefined();
      const body = JSON.parse(answer.text);
      expect(body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        code: 'AccessDenied',
        hint: hintFor('AccessDenied', 'AssumeRole'),
        requestId: expect.stringMatching(REQUEST_ID),
      });
      expectNothingPlanted(answer);
      expect(logs.problems()).toEqual([
        expect.objectContaining({ level: 'warn', context: 'StsService', text: expect.stringContaining(body.requestId) }),
      ]);
    });

    it('the same refusal reached through a clientFor client (the Quick start path): the same 403', async () => {
      const answer = await get(app, `/buckets?externalId=${wrongExternalId()}`);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.text)).toMatchObject({ statusCode: 403, code: 'AccessDenied' });
      expectNothingPlanted(answer);
      expect(logs.problems()).toEqual([expect.objectContaining({ level: 'warn', context: 'StsService' })]);
    });

    it('an input the library refuses: 400 naming the field and the rule, never the value, logged once by the filter', async () => {
      const answer = await get(app, `/access?externalId=${encodeURIComponent('planted-wrong-id has spaces!')}`);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'InvalidInput',
        field: 'externalId',
        rule: expect.stringMatching(/^must be 2–1224 characters/),
      });
      expectNothingPlanted(answer);
      expect(logs.problems()).toEqual([
        expect.objectContaining({ level: 'warn', context: 'StsExceptionFilter', text: expect.stringContaining('externalId') }),
      ]);
      expect(logs.problems()[0].text).not.toContain('has spaces!');
    });

    it('STS throttling: 503 with Retry-After, the code and the request id', async () => {
      sts.injectFault({ kind: 'throttle' }, { action: 'AssumeRole' });
      const answer = await get(app, `/access?externalId=${wrongExternalId()}`);
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(JSON.parse(answer.text)).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'Throttling',
        hint: hintFor('Throttling', 'AssumeRole'),
        requestId: expect.stringMatching(REQUEST_ID),
      });
      expectNothingPlanted(answer);
      expect(logs.problems()).toEqual([expect.objectContaining({ level: 'warn', context: 'StsService' })]);
    });

    it('STS not answering in time: 504 with Retry-After', async () => {
      sts.injectFault({ kind: 'delay', ms: 20_000 }, { action: 'AssumeRole' });
      const answer = await get(app, `/access?externalId=${wrongExternalId()}`);
      expect(answer.status).toBe(504);
      expect(answer.headers['retry-after']).toBe('5');
      expect(JSON.parse(answer.text)).toEqual({
        statusCode: 504,
        error: 'Gateway Timeout',
        code: 'TimeoutError',
        hint: hintFor('TimeoutError', 'AssumeRole'),
      });
      expect(logs.problems()).toEqual([expect.objectContaining({ level: 'warn', context: 'StsService' })]);
    });

    it("the library's configuration: a bare 500, logged once by the filter, without Nest's ERROR line", async () => {
      const answer = await get(app, '/health?maxAgeSeconds=-1');
      expect(answer.status).toBe(500);
      expect(answer.headers['retry-after']).toBeUndefined();
      expect(JSON.parse(answer.text)).toEqual({ statusCode: 500, error: 'Internal Server Error' });
      expect(logs.problems()).toEqual([
        expect.objectContaining({ level: 'warn', context: 'StsExceptionFilter', text: expect.stringContaining('maxAgeSeconds') }),
      ]);
    });

    it("leaves every other exception to Nest: the app's HttpException, and a plain Error as Nest's 500", async () => {
      const forbidden = await get(app, '/app-forbidden');
      expect(forbidden.status).toBe(403);
      expect(JSON.parse(forbidden.text)).toEqual({ statusCode: 403, error: 'Forbidden', message: 'the app says no' });
      const bug = await get(app, '/not-sts');
      expect(bug.status).toBe(500);
      expect(JSON.parse(bug.text)).toEqual({ statusCode: 500, message: 'Internal server error' });
      expect(logs.problems()).toEqual([expect.objectContaining({ level: 'error', context: 'ExceptionsHandler' })]);
    });

    it('a handler that already sent its head: the response is ended as it stands', async () => {
      const answer = await get(app, '/partial');
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('partial ');
      expect(logs.problems().filter((line) => line.level !== 'warn')).toEqual([]);
    });
  });
});

describe('StsExceptionFilter outside HTTP', () => {
  const hostOf = (type: string) => ({ getType: () => type, switchToHttp: () => ({ getResponse: () => ({}) }) }) as unknown as ArgumentsHost;
  const throttled = () => new StsError('Rate exceeded', { code: 'Throttling', operation: 'AssumeRole', retryable: true });

  it('in GraphQL, returns the StsHttpException (what a GraphQL exception filter returns as the error)', () => {
    const returned = new StsExceptionFilter().catch(throttled(), hostOf('graphql'));
    expect(returned).toBeInstanceOf(StsHttpException);
    expect(returned?.getStatus()).toBe(503);
  });

  it.each(['rpc', 'ws'])('in %s, returns nothing (a returned value would be sent as the answer)', (type) => {
    expect(new StsExceptionFilter().catch(throttled(), hostOf(type))).toBeUndefined();
  });
});
