/**
 * The shared tier on every Redis client and topology it supports, each on real Redis processes: ioredis and iovalkey
 * (one server, a 3-master Cluster, through a Sentinel) and node-redis v5 and v6 (one server, a 3-master Cluster).
 * For each: the store the tier talks to (SET PX NX, EVAL of several keys of one slot and of Streams, pub/sub), and
 * Nest apps sharing it over the local STS endpoint. No real AWS is ever contacted.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import Redis, { Cluster } from 'ioredis';
import Valkey from 'iovalkey';
import { createClient, createCluster } from 'redis';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis6';
import { ServerAwsStsModule, StsService, type SharedCacheOptions, type StsEvent } from '../../src';
import { redisStoreFor } from '../../src/cache/shared/redis-store-for';
import { eventually } from '../support/async-helpers';
import { startLocalSts, type LocalStsServer } from '../../src/testing';
import {
  describeWithRedisProcesses,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
  type RedisClusterServers,
  type RedisSentinelServers,
  type RedisServer,
} from '../support/redis-server';

const ACCOUNT = '123456789012';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const EXTERNAL_ID = 'planted-external-id-c1c2c3';
const TENANT = role('ClientsTenant');
const MANDATORY_WINDOW_MS = 60_000;

type Topology = 'server' | 'cluster' | 'sentinel';

/** A client an app would build, connected as its docs say, and how the app closes it. */
interface AppClient {
  redis: SharedCacheOptions['redis'];
  close(): Promise<void>;
}

/** A node-redis client or cluster client, as the spec connects and closes it, and as `cache.shared.redis` takes it. */
type NodeRedisClient = SharedCacheOptions['redis'] & {
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: () => void): unknown;
};

interface ClientKind {
  name: string;
  topology: Topology;
  connect(): Promise<AppClient>;
}

describeWithRedisProcesses('shared tier on every supported Redis client and topology', () => {
  let server: RedisServer;
  let cluster: RedisClusterServers;
  let sentinel: RedisSentinelServers;
  let sts: LocalStsServer;
  const apps: TestingModule[] = [];
  const clients: AppClient[] = [];
  let prefix = '';
  let serial = 0;
  let sharedKey = '';

  /** An ioredis or iovalkey client: it connects by itself. */
  const ioredis = (client: Redis | Cluster | Valkey | InstanceType<typeof Valkey.Cluster>): AppClient => {
    const emitter: { on(event: 'error', listener: () => void): unknown } = client;
    emitter.on('error', () => undefined); // the app's own handling of its client's connection errors
    return { redis: client, close: async () => client.disconnect() };
  };
  /** A node-redis client (or cluster): the app connects it before use. */
  const nodeRedis = async (client: NodeRedisClient): Promise<AppClient> => {
    client.on('error', () => undefined);
    await client.connect();
    return { redis: client, close: async () => client.destroy() };
  };
  const clusterUrls = () => cluster.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` }));
  const KINDS: ClientKind[] = [
    { name: 'ioredis', topology: 'server', connect: async () => ioredis(new Redis(server.url)) },
    { name: 'iovalkey', topology: 'server', connect: async () => ioredis(new Valkey(server.url)) },
    { name: 'ioredis Cluster', topology: 'cluster', connect: async () => ioredis(new Redis.Cluster(cluster.nodes)) },
    {
      name: 'ioredis through Sentinel',
      topology: 'sentinel',
      connect: async () => ioredis(new Redis({ sentinels: sentinel.sentinels, name: sentinel.masterName })),
    },
    { name: 'iovalkey Cluster', topology: 'cluster', connect: async () => ioredis(new Valkey.Cluster(cluster.nodes)) },
    {
      name: 'iovalkey through Sentinel',
      topology: 'sentinel',
      connect: async () => ioredis(new Valkey({ sentinels: sentinel.sentinels, name: sentinel.masterName })),
    },
    { name: 'node-redis v5', topology: 'server', connect: () => nodeRedis(createClient({ url: server.url })) },
    { name: 'node-redis v6', topology: 'server', connect: () => nodeRedis(createClient6({ url: server.url })) },
    { name: 'node-redis v5 on RESP3', topology: 'server', connect: () => nodeRedis(createClient({ url: server.url, RESP: 3 })) },
    { name: 'node-redis v5 cluster', topology: 'cluster', connect: () => nodeRedis(createCluster({ rootNodes: clusterUrls() })) },
    { name: 'node-redis v6 cluster', topology: 'cluster', connect: () => nodeRedis(createCluster6({ rootNodes: clusterUrls() })) },
  ];

  async function connect(kind: ClientKind): Promise<AppClient> {
    const client = await kind.connect();
    clients.push(client);
    return client;
  }

  /** An app as a user builds it: its own client of `kind`, the module configured with the shared tier. */
  async function app(kind: ClientKind): Promise<{ service: StsService; events: StsEvent[] }> {
    const { redis } = await connect(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: sts.baseIdentity.accessKeyId, secretAccessKey: sts.baseIdentity.secretAccessKey },
          clientConfig: { endpoint: sts.endpoint, maxAttempts: 1 },
          // Bounds generous for a busy machine: a command given up on makes the app fetch alone, which counts here.
          cache: { shared: { redis, encryptionKey: sharedKey, keyPrefix: prefix, commandTimeoutMs: 2_000 } },
        }),
      ],
    }).compile();
    apps.push(moduleRef);
    const service = moduleRef.get(StsService);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    return { service, events };
  }

  /** The masters holding `topology`'s data, each through a raw ioredis client, as an operator would look. */
  async function masters(topology: Topology): Promise<Redis[]> {
    const ports =
      topology === 'server'
        ? [server.port]
        : topology === 'cluster'
          ? cluster.nodes.map(({ port }) => port)
          : [await sentinel.masterPort()];
    return ports.map((port) => {
      const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
      clients.push(ioredis(client));
      return client;
    });
  }

  /** Every key under this spec's prefix, with its value (strings only) and PTTL. */
  async function stored(topology: Topology): Promise<Array<{ key: string; value: string | null; pttl: number }>> {
    const found = await Promise.all(
      (await masters(topology)).map(async (node) => {
        const keys = await node.keys(`${prefix}*`);
        return Promise.all(
          keys.map(async (key) => ({
            key,
            value: (await node.type(key)) === 'string' ? await node.get(key) : null,
            pttl: await node.pttl(key),
          })),
        );
      }),
    );
    return found.flat();
  }

  /** Polls an asynchronous condition (in real time) until it holds. */
  async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    for (const deadline = performance.now() + timeoutMs; !(await condition());) {
      if (performance.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const assumeCalls = () => sts.calls.filter((call) => call.action === 'AssumeRole' && call.status === 200).length;

  beforeAll(async () => {
    // Each kept as it starts, so afterAll stops whatever did when another one failed.
    const started = await Promise.allSettled([
      startRedisServer().then((started) => (server = started)),
      startRedisCluster().then((started) => (cluster = started)),
      startRedisSentinel().then((started) => (sentinel = started)),
      startLocalSts({ now: () => Date.now() }).then((started) => (sts = started)),
    ]);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    sts.addRole({ arn: TENANT, trustedPrincipals: [sts.baseIdentity.arn], externalId: EXTERNAL_ID });
  }, 90_000);

  beforeEach(() => {
    prefix = `clients${++serial}:`;
    sharedKey = randomBytes(32).toString('base64');
    sts.clearFaults();
    sts.resetCalls();
  });

  afterEach(async () => {
    for (const moduleRef of apps.splice(0)) await moduleRef.close();
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    Logger.overrideLogger(false);
    await Promise.all([server?.stop(), cluster?.stop(), sentinel?.stop(), sts?.close()]);
  });

  describe.each(KINDS.map((kind) => [kind.name, kind] as const))('%s', (_name, kind) => {
    it('the store sets with PX and NX, evaluates Lua over keys of one slot and over a Stream, and subscribes', async () => {
      const store = redisStoreFor((await connect(kind)).redis)!;
      expect(store).toBeDefined();
      const lock = `${prefix}{tag}:lock`;
      expect(await store.set(`${prefix}{tag}:value`, 'v', { px: 3_000 })).toBe(true);
      const [entry] = (await stored(kind.topology)).filter(({ key }) => key === `${prefix}{tag}:value`);
      expect(entry.pttl).toBeGreaterThan(0);
      expect(entry.pttl).toBeLessThanOrEqual(3_000);
      expect(await store.set(lock, 'first', { px: 5_000, nx: true })).toBe(true);
      expect(await store.set(lock, 'second', { px: 5_000, nx: true })).toBe(false);
      expect(await store.get(lock)).toBe('first');

      const swap = "local a = redis.call('get', KEYS[1]); redis.call('set', KEYS[2], a .. ARGV[1]); return redis.call('get', KEYS[2])";
      await expect(store.eval(swap, [lock, `${prefix}{tag}:copy`], ['!'])).resolves.toBe('first!');
      const stream = "redis.call('xadd', KEYS[1], '*', 'event', ARGV[1]); return redis.call('xrange', KEYS[1], '-', '+')";
      const entries = (await store.eval(stream, [`${prefix}{tag}:stream`], ['drop k1'])) as Array<[string, string[]]>;
      expect(entries).toHaveLength(1);
      expect(entries[0][1]).toEqual(['event', 'drop k1']);
      expect(await store.del(lock)).toBe(1);
      await expect(store.eval('return 7', [], [])).resolves.toBe(7);

      const heard: string[] = [];
      let ready = 0;
      const subscription = store.subscribe(`${prefix}events`, { message: (message) => heard.push(message), ready: () => ready++ });
      try {
        await eventually(() => ready > 0);
        await store.publish(`${prefix}events`, 'hello fleet');
        await eventually(() => heard.length > 0);
        expect(heard).toEqual(['hello fleet']);
      } finally {
        subscription.close();
      }
    });

    // A restart of the shared server: each kind's subscription must come back by itself, and say so.
    if (kind.topology === 'server') {
      it('the subscription is renewed after Redis restarts: ready again, and messages heard again', async () => {
        const store = redisStoreFor((await connect(kind)).redis)!;
        const heard: string[] = [];
        let ready = 0;
        const subscription = store.subscribe(`${prefix}events`, { message: (message) => heard.push(message), ready: () => ready++ });
        try {
          const roundTrip = (message: string) =>
            until(async () => {
              await store.publish(`${prefix}events`, message).catch(() => undefined); // the app's client may be reconnecting
              return heard.includes(message);
            }, 15_000);
          await eventually(() => ready === 1);
          await roundTrip('before restart');
          expect(ready).toBe(1); // once per connection
          await server.restart();
          await eventually(() => ready === 2, 15_000);
          await roundTrip('after restart');
          expect(ready).toBe(2);
        } finally {
          subscription.close();
        }
      }, 40_000);
    }

    it('three apps: concurrent callers make one STS call, values expire with their credentials, nothing secret is stored', async () => {
      const fleet = [await app(kind), await app(kind), await app(kind)];
      const request = { roleArn: TENANT, externalId: EXTERNAL_ID, sessionName: 'planted-session', durationSeconds: 900 };
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => fleet[i % 3].service.getCredentials({ ...request })));
      expect(assumeCalls()).toBe(1); // the lock is exclusive: one app fetched for the fleet
      expect(new Set(answers.map((credentials) => credentials.accessKeyId)).size).toBe(1);

      await until(async () => (await stored(kind.topology)).every(({ key }) => !key.endsWith(':lock'))); // released after the fill
      // The life left when the read starts: every TTL read after it is at most that, less the mandatory window.
      const life = answers[0].expiration.getTime() - Date.now();
      const everything = await stored(kind.topology);
      expect(everything.length).toBeGreaterThan(0);
      for (const { pttl } of everything) {
        expect(pttl).toBeGreaterThan(0);
        // PX counts from when Redis runs the SET, which a busy machine can delay after the tier computed it: 5 s of slack.
        expect(pttl).toBeLessThanOrEqual(life - MANDATORY_WINDOW_MS + 5_000);
      }
      const text = JSON.stringify(everything);
      for (const secret of [
        EXTERNAL_ID,
        TENANT,
        ACCOUNT,
        'planted-session',
        answers[0].secretAccessKey,
        answers[0].sessionToken,
        answers[0].accessKeyId,
        sharedKey,
      ]) {
        expect(text).not.toContain(secret);
      }
    });

    it('an invalidation in one app reaches the others', async () => {
      const [a, b] = [await app(kind), await app(kind)];
      const request = { roleArn: TENANT, externalId: EXTERNAL_ID };
      const held = await Promise.all([a, b].map(({ service }) => service.getCredentials(request)));
      expect(held[1].accessKeyId).toBe(held[0].accessKeyId);
      expect(b.service.cache.stats().size).toBe(1);
      expect(a.service.cache.invalidate(request)).toBe(true); // b hears of it only through the subscription
      await eventually(() => b.service.cache.stats().size === 0);
      expect(b.events.some((event) => event.type === 'invalidation')).toBe(true);
      const fresh = await b.service.getCredentials(request);
      expect(fresh.accessKeyId).not.toBe(held[0].accessKeyId);
    });
  });

  it('a node-redis client the app forgot to connect: callers are served without the tier, and the outage says why', async () => {
    const forgotten = createClient({ url: server.url });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: sts.baseIdentity.accessKeyId, secretAccessKey: sts.baseIdentity.secretAccessKey },
          clientConfig: { endpoint: sts.endpoint, maxAttempts: 1 },
          cache: { shared: { redis: forgotten, encryptionKey: sharedKey, keyPrefix: prefix } },
        }),
      ],
    }).compile();
    apps.push(moduleRef);
    const service = moduleRef.get(StsService);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    await expect(service.getCredentials({ roleArn: TENANT, externalId: EXTERNAL_ID })).resolves.toMatchObject({
      accessKeyId: expect.any(String),
    });
    expect(events).toContainEqual({ type: 'shared-tier', state: 'unavailable', errorCode: 'CLIENT_CLOSED' });
  });

  it('through a Sentinel failover mid-run every caller is served, and the fleet shares again on the new master', async () => {
    const kind = KINDS.find(({ topology }) => topology === 'sentinel')!;
    const [a, b] = [await app(kind), await app(kind)];
    await a.service.getCredentials({ roleArn: TENANT, externalId: EXTERNAL_ID });
    const failover = sentinel.failover();
    const served: Array<Promise<unknown>> = [];
    let failedOver = false;
    void failover.then(() => (failedOver = true));
    for (let i = 0; !failedOver; i++) {
      served.push(
        ...[a, b].map(({ service }) =>
          service.getCredentials({ roleArn: TENANT, externalId: EXTERNAL_ID, durationSeconds: 900 + (i % 20) * 60 }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await failover;
    const answers = await Promise.allSettled(served);
    expect(answers.filter(({ status }) => status === 'rejected')).toEqual([]);

    // After its backoff each app tries Redis again (an invalidation sends a DEL) and finds the new master.
    const tierState = (events: StsEvent[]) => events.flatMap((event) => (event.type === 'shared-tier' ? [event.state] : [])).at(-1);
    const recovered = () => [a, b].every(({ events }) => tierState(events) !== 'unavailable');
    for (const deadline = performance.now() + 20_000; !recovered() && performance.now() < deadline;) {
      [a, b].forEach(({ service }) => service.cache.invalidate({ roleArn: TENANT, sessionName: 'probe' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(recovered()).toBe(true);
    const before = assumeCalls();
    const request = { roleArn: TENANT, externalId: EXTERNAL_ID, durationSeconds: 3000 };
    const fetched = await a.service.getCredentials(request);
    await expect(b.service.getCredentials(request)).resolves.toMatchObject({ accessKeyId: fetched.accessKeyId });
    expect(assumeCalls() - before).toBe(1);
  }, 60_000);
});
