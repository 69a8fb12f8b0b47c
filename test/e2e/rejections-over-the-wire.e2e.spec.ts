/**
 * Clients from `clientFor` and `createClient` when a service rejects their credentials, over the wire: the real
 * S3 and DynamoDB clients against a local endpoint that records which access key signed each request and answers
 * in each service's wire format (src/testing/local-service-endpoint.ts), with credentials from LocalStsServer.
 *
 * A rejection (`InvalidAccessKeyId`, `UnrecognizedClientException`…) may fetch fresh credentials once; when the
 * fresh ones are rejected too, the fault is not staleness: it is remembered for that client's service and region,
 * with a backoff, and let through as the service answered, while the other regions keep credentials and clients.
 *
 * Time: only `Date` is faked (sockets and the SDK's retry delays need real timers), so the memory's backoff runs
 * on a clock the spec moves. STS calls are counted, never timed.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ServerAwsStsModule, StsService, type ServerAwsStsConfig } from '../../src';
import { rejection } from '../support/async-helpers';
import { startLocalServiceEndpoint, startLocalSts, type LocalServiceEndpoint, type LocalStsServer } from '../../src/testing';
import { fakeOnly } from '../support/fake-clock';

const ACCOUNT = '123456789012';
const TENANT = { roleArn: `arn:aws:iam::${ACCOUNT}:role/Tenant` };
const OTHER_TENANT = { roleArn: `arn:aws:iam::${ACCOUNT}:role/OtherTenant` };
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
/** Moves the (fake) wall clock to T0 + ms. */
const at = (ms: number) => jest.setSystemTime(T0 + ms);

/** What a caller sees of a failed send. */
interface ServiceFailure {
  name: string;
  $retryable?: unknown;
  $metadata: { httpStatusCode?: number; attempts?: number };
}

describe('service rejections over the wire (S3 and DynamoDB clients, LocalStsServer)', () => {
  let localSts: LocalStsServer;
  let endpoint: LocalServiceEndpoint;
  const apps: TestingModule[] = [];
  const owned: Array<{ destroy(): void }> = [];

  async function app(config: Partial<ServerAwsStsConfig> = {}): Promise<StsService> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: localSts.baseIdentity.accessKeyId, secretAccessKey: localSts.baseIdentity.secretAccessKey },
          clientConfig: { endpoint: localSts.endpoint, maxAttempts: 1 },
          ...config,
        }),
      ],
    }).compile();
    apps.push(moduleRef);
    return moduleRef.get(StsService);
  }

  /** The S3 client config for the local endpoint (the SDK's default retries: 3 attempts). */
  const s3Config = (region = 'us-east-1') => ({ endpoint: endpoint.url, forcePathStyle: true, region });
  const dynamoConfig = (region = 'us-east-1') => ({ endpoint: endpoint.url, region });
  const listBuckets = (client: S3Client) => client.send(new ListBucketsCommand({}));
  const listTables = (client: DynamoDBClient) => client.send(new ListTablesCommand({}));
  const assumeRoleCalls = () => localSts.callCount('AssumeRole');

  beforeAll(async () => {
    localSts = await startLocalSts({ now: () => Date.now() });
    for (const { roleArn } of [TENANT, OTHER_TENANT]) localSts.addRole({ arn: roleArn, trustedPrincipals: [localSts.baseIdentity.arn] });
    endpoint = await startLocalServiceEndpoint();
  });
  beforeEach(() => {
    fakeOnly(T0);
    localSts.resetCalls();
    endpoint.reset();
  });
  afterEach(async () => {
    for (const client of owned.splice(0)) client.destroy();
    for (const moduleRef of apps.splice(0)) await moduleRef.close();
    jest.useRealTimers();
  });
  afterAll(async () => {
    await endpoint.close();
    await localSts.close();
  });

  describe('credentials a service keeps rejecting', () => {
    it('30 sequential S3 requests rejected with InvalidAccessKeyId: fresh credentials once, then the 403 is let through as is', async () => {
      const sts = await app();
      endpoint.answer(() => 'InvalidAccessKeyId');
      const failures: ServiceFailure[] = [];
      for (let request = 0; request < 30; request++)
        failures.push(await rejection<ServiceFailure>(listBuckets(sts.clientFor(S3Client, TENANT, s3Config()))));
      for (const failure of failures) expect(failure).toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
      expect(assumeRoleCalls()).toBeLessThanOrEqual(3);
      // The first request was signed again with fresh credentials, within its one attempt (no SDK retry spent); the
      // later ones are answered as S3 answered, in one attempt, unmarked.
      const [rejected, fresh] = endpoint.requests.map(({ accessKeyId }) => accessKeyId);
      expect(fresh).not.toBe(rejected);
      for (const failure of failures) {
        expect(failure.$metadata.attempts).toBe(1);
        expect(failure.$retryable).toBeUndefined();
      }
      expect(endpoint.requests.length).toBe(31);
    });

    it('10 concurrent DynamoDB workers over 3 s rejected with UnrecognizedClientException: at most 5 AssumeRole', async () => {
      const sts = await app();
      endpoint.answer(() => 'UnrecognizedClientException');
      const worker = async () => {
        const failure = await rejection<ServiceFailure>(listTables(sts.clientFor(DynamoDBClient, TENANT, dynamoConfig())));
        expect(failure.name).toBe('UnrecognizedClientException');
      };
      // 30 rounds of 10 concurrent requests, 100 ms apart on the clock: 3 seconds.
      for (let round = 0; round < 30; round++) {
        at(round * 100);
        await Promise.all(Array.from({ length: 10 }, worker));
      }
      expect(assumeRoleCalls()).toBeLessThanOrEqual(5);
      expect(endpoint.requests.length).toBeLessThan(350);
    });

    it('the memory backs off: after it lapses, one fresh try; the service accepting again ends it', async () => {
      const sts = await app();
      endpoint.answer(() => 'InvalidAccessKeyId');
      const client = () => sts.clientFor(S3Client, TENANT, s3Config());
      await rejection(listBuckets(client()));
      expect(assumeRoleCalls()).toBe(2);
      at(1_000);
      await rejection(listBuckets(client()));
      expect(assumeRoleCalls()).toBe(2);
      at(10 * 60_000); // past any backoff
      await rejection(listBuckets(client()));
      expect(assumeRoleCalls()).toBe(3);
      endpoint.answer(() => undefined); // the key became known (propagation done)
      await expect(listBuckets(client())).resolves.toMatchObject({ Buckets: [] });
      expect(assumeRoleCalls()).toBe(3);
    });
    it('30 sequential S3 requests answered by turns with InvalidAccessKeyId and another error: still at most 3 AssumeRole', async () => {
      const sts = await app();
      // A check S3 may make before it looks at the key (a bad argument) answers every other request.
      let answers = 0;
      endpoint.answer(() => (++answers % 2 === 0 ? 'InvalidArgument' : 'InvalidAccessKeyId'));
      for (let request = 0; request < 30; request++) {
        at(request * 100);
        await rejection(listBuckets(sts.clientFor(S3Client, TENANT, s3Config())));
      }
      expect(assumeRoleCalls()).toBeLessThanOrEqual(3);
    });
  });

  describe('stale credentials are still replaced', () => {
    it('a rotated key is rejected once, dropped, and the retry signs with fresh credentials; a later rotation is replaced again', async () => {
      const sts = await app();
      const client = sts.clientFor(S3Client, TENANT, s3Config());
      await listBuckets(client);
      const first = endpoint.requests[0]!.accessKeyId;
      endpoint.answer(({ accessKeyId }) => (accessKeyId === first ? 'InvalidAccessKeyId' : undefined));
      await expect(listBuckets(client)).resolves.toMatchObject({ Buckets: [] });
      const second = endpoint.requests.at(-1)!.accessKeyId;
      expect(second).not.toBe(first);
      expect(assumeRoleCalls()).toBe(2);
      // Accepted since: the next rejection is staleness again, not a remembered fault.
      endpoint.answer(({ accessKeyId }) => (accessKeyId === first || accessKeyId === second ? 'ExpiredToken' : undefined));
      await expect(listBuckets(client)).resolves.toMatchObject({ Buckets: [] });
      expect(endpoint.requests.at(-1)!.accessKeyId).not.toBe(second);
      expect(assumeRoleCalls()).toBe(3);
    });
    it('fresh credentials the service answered otherwise (AccessDenied) are stale later: replaced then, not let through as a remembered fault', async () => {
      const sts = await app();
      const client = sts.clientFor(S3Client, TENANT, s3Config());
      // The first key is unknown to S3; the fresh one is known, but the role may not list buckets.
      let first: string | undefined;
      endpoint.answer(({ accessKeyId }) => ((first ??= accessKeyId) === accessKeyId ? 'InvalidAccessKeyId' : 'AccessDenied'));
      await expect(listBuckets(client)).rejects.toMatchObject({ name: 'AccessDenied' });
      const second = endpoint.requests.at(-1)!.accessKeyId;
      expect(second).not.toBe(first);
      expect(assumeRoleCalls()).toBe(2);
      // Ten minutes on, S3 answers that key as expired (ended early): staleness, so fresh credentials again.
      at(10 * 60_000);
      endpoint.answer(({ accessKeyId }) => (accessKeyId === first || accessKeyId === second ? 'ExpiredToken' : undefined));
      await expect(listBuckets(client)).resolves.toMatchObject({ Buckets: [] });
      expect(endpoint.requests.at(-1)!.accessKeyId).not.toBe(second);
      expect(assumeRoleCalls()).toBe(3);
    });
  });

  describe("a client's own drop keeps only its own request's clients", () => {
    it('an invalidateWhere a listener makes while a client drops rejected credentials still takes the clients it selects', async () => {
      const sts = await app();
      const other = sts.clientFor(S3Client, OTHER_TENANT, s3Config());
      await listBuckets(other);
      await listBuckets(sts.clientFor(S3Client, TENANT, s3Config()));
      // When the tenant's credentials are dropped, drop those of the other role of its account too.
      const subscription = sts.events$.subscribe((event) => {
        if (event.type === 'invalidation' && event.roleArn === TENANT.roleArn)
          sts.cache.invalidateWhere(({ roleArn }) => roleArn === OTHER_TENANT.roleArn);
      });
      const tenantKey = endpoint.requests.at(-1)!.accessKeyId;
      endpoint.answer(({ accessKeyId }) => (accessKeyId === tenantKey ? 'InvalidAccessKeyId' : undefined));
      try {
        await expect(listBuckets(sts.clientFor(S3Client, TENANT, s3Config()))).resolves.toMatchObject({ Buckets: [] });
      } finally {
        subscription.unsubscribe();
      }
      expect(assumeRoleCalls()).toBe(3); // the tenant's fresh credentials, and the other role's on its next request
      // The other role's credentials went with its client, as invalidateWhere promises; the tenant's client stayed.
      expect(sts.clientFor(S3Client, OTHER_TENANT, s3Config()) === other).toBe(false);
      expect(sts.cache.clientStats()).toMatchObject({ destroyed: 1 });
    });
  });

  describe('a request with a streamed body', () => {
    it('is not sent twice: the rejection is thrown (marked retryable), the credentials dropped, the next request signs with fresh ones', async () => {
      const sts = await app();
      const client = sts.clientFor(S3Client, TENANT, s3Config());
      let first: string | undefined;
      endpoint.answer(({ accessKeyId }) => ((first ??= accessKeyId) === accessKeyId ? 'InvalidAccessKeyId' : undefined));
      const upload = new PutObjectCommand({
        Bucket: 'reports',
        Key: 'a.txt',
        Body: Readable.from([Buffer.from('hello')]),
        ContentLength: 5,
      });
      const sdkWarning = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      let warnings: unknown[][];
      try {
        await expect(client.send(upload)).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $retryable: {} });
      } finally {
        warnings = [...sdkWarning.mock.calls];
        sdkWarning.mockRestore();
      }
      expect(warnings).toEqual([['An error was encountered in a non-retryable streaming request.']]); // nor does the SDK retry it
      expect(endpoint.requests).toHaveLength(1);
      await expect(listBuckets(client)).resolves.toMatchObject({ Buckets: [] });
      expect(endpoint.requests.at(-1)!.accessKeyId).not.toBe(first);
      expect(assumeRoleCalls()).toBe(2);
    });
  });

  describe('one region rejecting a tenant', () => {
    it('a scanner of 5 regions, one rejecting with UnrecognizedClientException: the healthy regions keep credentials and pooled clients', async () => {
      const sts = await app();
      const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'sa-east-1', 'ap-east-1'];
      endpoint.answer(({ region }) => (region === 'ap-east-1' ? 'UnrecognizedClientException' : undefined));
      for (let scan = 0; scan < 20; scan++) {
        const results = await Promise.allSettled(
          regions.map((region) => listTables(sts.clientFor(DynamoDBClient, TENANT, dynamoConfig(region)))),
        );
        results.forEach((result, index) => {
          if (regions[index] === 'ap-east-1')
            expect(result).toMatchObject({ status: 'rejected', reason: { name: 'UnrecognizedClientException' } });
          else expect(result).toMatchObject({ status: 'fulfilled' });
        });
      }
      expect(assumeRoleCalls()).toBeLessThanOrEqual(3);
      expect(sts.cache.clientStats()).toMatchObject({ size: 5, created: 5, hits: 95, destroyed: 0 });
      // After the first scan, every healthy region signs with one and the same key.
      const healthyKeys = new Set(
        endpoint.requests
          .slice(10)
          .filter(({ region }) => region !== 'ap-east-1')
          .map(({ accessKeyId }) => accessKeyId),
      );
      expect(healthyKeys.size).toBe(1);
    });
  });

  describe('credentials resolved once per request', () => {
    it("inside one tenant's request, another tenant's client and provider answer with that tenant's credentials", async () => {
      const sts = await app();
      const [mine, theirs] = [sts.clientFor(S3Client, TENANT, s3Config()), sts.clientFor(S3Client, OTHER_TENANT, s3Config())];
      const [myKey, theirKey] = [(await sts.getCredentials(TENANT)).accessKeyId, (await sts.getCredentials(OTHER_TENANT)).accessKeyId];
      const command = new ListBucketsCommand({});
      let seenInside: string | undefined;
      command.middlewareStack.add(
        (next) => async (args) => {
          seenInside = (await theirs.config.credentials()).accessKeyId;
          await listBuckets(theirs);
          return next(args);
        },
        { step: 'finalizeRequest' },
      );
      await mine.send(command);
      expect(seenInside).toBe(theirKey);
      expect(endpoint.requests.map(({ accessKeyId }) => accessKeyId)).toEqual([theirKey, myKey]);
    });
  });

  describe('two tenants interleaved', () => {
    it("200 concurrent requests of two tenants, one of whose keys is rotated midway: all succeed, each signed with its own tenant's key", async () => {
      const sts = await app();
      const clients = [sts.clientFor(S3Client, TENANT, s3Config()), sts.clientFor(S3Client, OTHER_TENANT, s3Config())] as const;
      await Promise.all(clients.map(listBuckets));
      const [firstKey, otherKey] = endpoint.requests.map(({ accessKeyId }) => accessKeyId);
      const owners = new Map<string, number>([
        [firstKey!, 0],
        [otherKey!, 1],
      ]);
      // The tenant's first key is rejected from now on: its requests in flight are retried with a fresh one.
      endpoint.answer(({ accessKeyId }) => (accessKeyId === firstKey ? 'InvalidAccessKeyId' : undefined));
      const signedBy: Array<{ tenant: number; key: string }> = [];
      await Promise.all(
        Array.from({ length: 200 }, async (_, index) => {
          const tenant = index % 2;
          const command = new ListBucketsCommand({});
          command.middlewareStack.add(
            (next) => async (args) => {
              const authorization = (args.request as { headers: Record<string, string> }).headers.authorization ?? '';
              signedBy.push({ tenant, key: /Credential=([^/]+)\//.exec(authorization)?.[1] ?? '' });
              return next(args);
            },
            { step: 'finalizeRequest', priority: 'low' },
          );
          await clients[tenant].send(command);
        }),
      );
      const freshKeys = [...new Set(signedBy.filter(({ tenant }) => tenant === 0).map(({ key }) => key))].filter((key) => key !== firstKey);
      for (const key of freshKeys) owners.set(key, 0);
      expect(freshKeys).toHaveLength(1);
      expect(signedBy.every(({ tenant, key }) => owners.get(key) === tenant)).toBe(true);
      expect(assumeRoleCalls()).toBe(3);
    });
  });

  describe('cache: false', () => {
    it.each([
      ['clientFor', (sts: StsService) => sts.clientFor(S3Client, TENANT, s3Config())],
      ['createClient', (sts: StsService) => owned[owned.push(sts.createClient(S3Client, TENANT, s3Config())) - 1] as S3Client],
    ])('one S3 request through %s makes one AssumeRole, rejected or retried', async (_how, clientOf) => {
      const sts = await app({ cache: false });
      endpoint.answer(() => 'InvalidAccessKeyId');
      await rejection(listBuckets(clientOf(sts)));
      expect(assumeRoleCalls()).toBe(1);
      let answers = 0;
      endpoint.answer(() => (++answers <= 2 ? 'InternalError' : undefined));
      await expect(listBuckets(clientOf(sts))).resolves.toMatchObject({ $metadata: { attempts: 3 } });
      expect(assumeRoleCalls()).toBe(2);
    });
  });
});
