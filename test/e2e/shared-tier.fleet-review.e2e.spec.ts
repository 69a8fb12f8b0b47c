/**
 * The shared tier's fleet promise, attacked at the tier itself: replicas are `SharedTier`s on one real `redis-server`,
 * each with a plain map as its local cache, so a spec controls exactly when a replica's Redis or base principal fails.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis, { type Cluster } from 'ioredis';
import { createClient } from 'redis';
import { IoredisStore } from '../../src/cache/shared/ioredis-store';
import { NodeRedisStore } from '../../src/cache/shared/node-redis-store';
import type { RedisStore } from '../../src/cache/shared/redis-store';
import { SharedTier, type SharedRequest } from '../../src/cache/shared/shared-tier';
import { TemporaryCredentials } from '../../src/sts/temporary-credentials';
import type { SharedTierEvent } from '../../src/observability/sts-events';
import { eventually } from '../support/async-helpers';
import { describeWithRedis, startRedisCluster } from '../support/redis-server';

const HOUR = 3600_000;

/** A replica's Redis as one flag sees it: while `broken`, every command fails as a dropped connection would. */
class BreakableStore implements RedisStore {
  broken = false;
  /** Commands sent so far. */
  sent = 0;
  constructor(private readonly inner: RedisStore) {}
  #guard<T>(command: () => Promise<T>): Promise<T> {
    this.sent++;
    return this.broken ? Promise.reject(Object.assign(new Error('connection lost'), { code: 'ECONNRESET' })) : command();
  }
  get(key: string) {
    return this.#guard(() => this.inner.get(key));
  }
  set(key: string, value: string, options: { px: number; nx?: boolean }) {
    return this.#guard(() => this.inner.set(key, value, options));
  }
  del(key: string) {
    return this.#guard(() => this.inner.del(key));
  }
  eval(script: string, keys: string[], args: string[]) {
    return this.#guard(() => this.inner.eval(script, keys, args));
  }
  publish(channel: string, message: string) {
    return this.#guard(() => this.inner.publish(channel, message));
  }
  subscribe(...args: Parameters<RedisStore['subscribe']>) {
    return this.inner.subscribe(...args);
  }
}

const credentials = (label: string) =>
  new TemporaryCredentials({
    accessKeyId: `ASIA${label.toUpperCase().padEnd(16, 'X')}`,
    secretAccessKey: `secret-${label}-${randomUUID()}`,
    sessionToken: `token-${label}-${randomUUID()}`,
    expiration: new Date(Date.now() + HOUR),
  });

describeWithRedis('shared tier: the fleet promise under review', (redisServer) => {
  const clients: Redis[] = [];
  const tiers: SharedTier[] = [];
  let prefix = '';
  let key = '';
  let serial = 0;

  beforeEach(() => {
    prefix = `review${++serial}:`;
    key = randomBytes(32).toString('base64');
  });

  afterEach(() => {
    tiers.splice(0).forEach((tier) => tier.close());
    clients.splice(0).forEach((client) => client.disconnect());
  });

  const client = () => {
    const redis = new Redis(redisServer().url);
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };

  interface ReplicaOptions {
    /** The base principal's answer: a rejection plays STS failing `GetCallerIdentity`. */
    principal?: () => Promise<string>;
    /** Its encryption keys, the sealing one first (default: the spec's one key). */
    keys?: string[];
    /** Its Redis (default: an ioredis client of the spec's server). */
    redis?: () => RedisStore;
  }

  /** One replica: its tier, its local cache, and the switch that cuts its Redis. */
  function replica(options: ReplicaOptions = {}) {
    const {
      principal = async () => 'arn:aws:iam::123456789012:user/app',
      keys = [key],
      redis = () => new IoredisStore(client()),
    } = options;
    const store = new BreakableStore(redis());
    const local = new Map<string, TemporaryCredentials>();
    const canonicals = new Map<string, string>();
    const events: SharedTierEvent[] = [];
    const tier = new SharedTier(
      {
        store: () => store,
        encryptionKeys: () => keys.map((bytes, i) => ({ id: `k${i}`, key: bytes })),
        keyPrefix: prefix,
        commandTimeoutMs: 1_000,
      },
      {
        principal,
        now: () => Date.now(),
        mandatoryWindowMs: 60_000,
        operationTimeoutMs: 10_000,
        maxEntries: 100,
        emit: (event) => events.push(event),
        waited: () => undefined,
        onRemoteInvalidation: (localKey, onlyIf) => {
          const held = local.get(localKey);
          if (held === undefined || (onlyIf !== undefined && !onlyIf(held.accessKeyId))) return undefined;
          local.delete(localKey);
          return { accessKeyId: held.accessKeyId, expiration: held.expiration.getTime() };
        },
        held: () => [...local.keys()].map((localKey) => ({ localKey, canonical: canonicals.get(localKey)! })),
      },
    );
    tiers.push(tier);
    const requestOf = (name: string): SharedRequest => {
      canonicals.set(name, `canonical ${name}`);
      return { localKey: name, canonical: `canonical ${name}` };
    };
    /** Loads `name` through the tier (fetching `fresh` when Redis has nothing usable) and holds the answer locally. */
    const load = async (name: string, fresh: TemporaryCredentials | (() => Promise<TemporaryCredentials>)) => {
      const answer = await tier.load(requestOf(name), undefined, typeof fresh === 'function' ? fresh : async () => fresh);
      local.set(name, answer);
      return answer;
    };
    return { tier, store, local, events, requestOf, load };
  }

  it('an invalidate() made while the base principal is still unknown (STS failing) reaches the fleet once it is known', async () => {
    const holder = replica();
    const held = await holder.load('tenant', credentials('held'));
    let stsAnswers = false;
    const admin = replica({
      principal: async () => {
        if (!stsAnswers) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
        return 'arn:aws:iam::123456789012:user/app';
      },
    });
    admin.tier.invalidate(admin.requestOf('tenant'), undefined); // a revocation on a replica that never loaded
    await new Promise((resolve) => setTimeout(resolve, 200));
    stsAnswers = true;
    // The holder drops them, and a replica started now does not adopt them from Redis.
    await eventually(() => !holder.local.has('tenant'), 8_000);
    const late = replica();
    expect((await late.load('tenant', credentials('fresh'))).accessKeyId).not.toBe(held.accessKeyId);
  }, 20_000);

  it('two invalidateIfCurrent of one request queued during an outage both reach the fleet: the first is not lost', async () => {
    const [a, b] = [replica(), replica()];
    const first = await a.load('tenant', credentials('first'));
    await b.load('tenant', credentials('unused'));
    expect(b.local.get('tenant')?.accessKeyId).toBe(first.accessKeyId); // b adopted a's credentials
    a.store.broken = true;
    a.tier.invalidateIfHolding(a.requestOf('tenant'), first.accessKeyId, first.expiration.getTime());
    a.local.delete('tenant');
    // a fetches again on its own (Redis is out for a), and those credentials are refused too.
    const second = await a.load('tenant', credentials('second'));
    a.tier.invalidateIfHolding(a.requestOf('tenant'), second.accessKeyId, second.expiration.getTime());
    a.local.delete('tenant');
    await eventually(() => a.events.some((event) => event.state === 'invalidation-pending'), 5_000);
    a.store.broken = false;
    await eventually(() => a.tier.stats().invalidationsPending === 0, 8_000);
    // b held the first credentials: it must drop them, and nobody may adopt them from Redis.
    await eventually(() => !b.local.has('tenant'), 8_000);
    const late = replica();
    expect((await late.load('tenant', credentials('fresh'))).accessKeyId).not.toBe(first.accessKeyId);
  }, 30_000);

  it("a replica whose place in the fleet's log was trimmed away (MAXLEN ~) still drops the credentials invalidated there", async () => {
    const [a, b] = [replica(), replica()];
    const held = await a.load('tenant', credentials('held'));
    await b.load('tenant', credentials('unused'));
    a.tier.invalidate(a.requestOf('other'), undefined); // b has read the log at least once since
    await eventually(() => a.tier.stats().invalidationsPropagated === 1, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    b.store.broken = true; // b cannot read the log (a pause, a partition) while the fleet writes a lot to it
    a.tier.invalidate(a.requestOf('tenant'), held.expiration.getTime());
    await eventually(() => a.tier.stats().invalidationsPropagated === 2, 5_000);
    const inspector = client();
    const pipeline = inspector.pipeline();
    // Another replica's invalidateWhere of thousands of entries: the log keeps about the last 10,000.
    for (let i = 0; i < 12_000; i++)
      pipeline.xadd(`${prefix}log`, 'MAXLEN', '~', '10000', '*', 'a', `${prefix}{x${i}}`, 'o', `o${i}`, 'i', 'other', 't', '');
    await pipeline.exec();
    b.store.broken = false;
    // b must not keep serving what was invalidated while it could not read.
    await eventually(() => !b.local.has('tenant'), 10_000);
  }, 30_000);

  it("during a key rotation, a [new, old] replica started after an [old] replica's invalidation does not adopt what [new] sealed before", async () => {
    const newKey = randomBytes(32).toString('base64');
    const rotated = replica({ keys: [newKey, key] });
    const sealedByNew = await rotated.load('tenant', credentials('new'));
    const old = replica();
    expect((await old.load('tenant', credentials('old'))).accessKeyId).not.toBe(sealedByNew.accessKeyId); // [old] cannot read it
    rotated.tier.close(); // the [new, old] replica goes away (a rolling deploy), its value stays in Redis
    old.tier.invalidate(old.requestOf('tenant'), undefined);
    await eventually(() => old.tier.stats().invalidationsPropagated === 1, 5_000);
    const started = replica({ keys: [newKey, key] });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // it has read the log (on subscribing, then each second)
    expect((await started.load('tenant', credentials('fresh'))).accessKeyId).not.toBe(sealedByNew.accessKeyId);
  }, 30_000);

  it("one invalidation in a rotating fleet writes a bounded log: the originator's entries, relays only where needed", async () => {
    const newKey = randomBytes(32).toString('base64');
    const fleet = Array.from({ length: 5 }, () => replica({ keys: [newKey, key] }));
    for (const member of fleet) await member.load('tenant', credentials('held'));
    fleet[0].tier.invalidate(fleet[0].requestOf('tenant'), undefined);
    await eventually(() => fleet.slice(1).every((member) => !member.local.has('tenant')), 8_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // relays, if any, have landed
    const entries = await client().xlen(`${prefix}log`);
    // fleet[0] knows both addresses and invalidated both: nobody needs to relay.
    expect(entries).toBe(2);
  }, 30_000);

  it('on a 3-master Redis Cluster, an invalidation racing a fill is never undone, and reaches a replica holding the value', async () => {
    const cluster = await startRedisCluster();
    const clusterClients: Cluster[] = [];
    try {
      const redis = () => {
        const connection = new Redis.Cluster(cluster.nodes);
        connection.on('error', () => undefined);
        clusterClients.push(connection);
        return new IoredisStore(connection);
      };
      const [a, b] = [replica({ redis }), replica({ redis })];
      const names = Array.from({ length: 6 }, (_, i) => `tenant${i}`); // over the three masters' slots
      const held = await Promise.all(names.map((name) => a.load(name, credentials(`held${name.slice(-1)}`))));
      await Promise.all(names.map((name) => b.load(name, credentials('unused'))));
      names.forEach((name) => a.tier.invalidate(a.requestOf(name), undefined));
      await eventually(() => names.every((name) => !b.local.has(name)), 8_000);
      // A fill that read before another replica's invalidation, stored after it.
      let answer!: (credentials: TemporaryCredentials) => void;
      const late = b.load('tenant0', () => new Promise((resolve) => (answer = resolve)));
      await eventually(() => answer !== undefined, 5_000);
      a.tier.invalidate(a.requestOf('tenant0'), undefined);
      await eventually(() => a.tier.stats().invalidationsPropagated === names.length + 1, 5_000);
      answer(credentials('late'));
      const stale = await late;
      await new Promise((resolve) => setTimeout(resolve, 300)); // its store is refused (or done)
      const fresh = replica({ redis });
      const answers = await Promise.all(names.map((name) => fresh.load(name, credentials('fresh'))));
      const invalidated = [stale, ...held].map(({ accessKeyId }) => accessKeyId);
      expect(answers.filter(({ accessKeyId }) => invalidated.includes(accessKeyId))).toEqual([]);
      expect([a, b, fresh].every(({ tier }) => tier.stats().lastErrorCode === undefined)).toBe(true); // no CROSSSLOT
    } finally {
      tiers.splice(0).forEach((tier) => tier.close());
      clusterClients.forEach((connection) => connection.disconnect());
      await cluster.stop();
    }
  }, 60_000);

  it('an invalidation on the instance whose own fill is in flight is not undone by that fill', async () => {
    const a = replica();
    let answer!: (credentials: TemporaryCredentials) => void;
    const late = a.load('tenant', () => new Promise((resolve) => (answer = resolve)));
    await eventually(() => answer !== undefined, 5_000);
    a.tier.invalidate(a.requestOf('tenant'), undefined);
    await eventually(() => a.tier.stats().invalidationsPropagated === 1, 5_000);
    answer(credentials('late'));
    const stale = await late;
    a.local.delete('tenant'); // as the cache does with a load an invalidation overtook
    await new Promise((resolve) => setTimeout(resolve, 300)); // its store is refused (or done)
    expect((await a.load('tenant', credentials('again'))).accessKeyId).not.toBe(stale.accessKeyId);
    expect((await replica().load('tenant', credentials('fresh'))).accessKeyId).not.toBe(stale.accessKeyId);
  }, 30_000);

  it("credentials loaded while the base principal was unknown (fetched past the tier) are still dropped by the fleet's invalidation", async () => {
    let stsAnswers = false;
    const a = replica({
      principal: async () => {
        if (!stsAnswers) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
        return 'arn:aws:iam::123456789012:user/app';
      },
    });
    await a.load('tenant', credentials('bypassed')); // GetCallerIdentity failed: fetched without the tier, held
    expect(a.tier.stats().bypassed).toBe(1);
    stsAnswers = true;
    const b = replica();
    await b.load('tenant', credentials('other'));
    b.tier.invalidate(b.requestOf('tenant'), undefined);
    await eventually(() => !a.local.has('tenant'), 8_000);
  }, 30_000);

  it('the first invalidation in a new log drops only its own credentials elsewhere (a short log is not a trimmed one)', async () => {
    const [a, b] = [replica(), replica()];
    for (const name of ['kept', 'dropped']) await a.load(name, credentials(name));
    await b.load('dropped', credentials('unused'));
    b.tier.invalidate(b.requestOf('dropped'), undefined);
    await eventually(() => !a.local.has('dropped'), 8_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a read the log again
    expect(a.local.has('kept')).toBe(true);
  }, 30_000);

  it("on node-redis v5 (RESP3), invalidations made while a replica's subscription was killed reach it, and a trimmed log is noticed", async () => {
    const connections: Array<{ destroy(): void; isReady: boolean }> = [];
    try {
      const redis = () => {
        const connection = createClient({ url: redisServer().url, RESP: 3 });
        connection.on('error', () => undefined);
        connections.push(connection);
        void connection.connect();
        return new NodeRedisStore(connection as never);
      };
      const [a, b] = [replica({ redis }), replica({ redis })];
      await eventually(() => connections.every(({ isReady }) => isReady), 5_000); // connected, as an app's client is
      const names = ['t1', 't2', 't3'];
      const held = await Promise.all(names.map((name) => a.load(name, credentials(name))));
      await Promise.all(names.map((name) => b.load(name, credentials('unused'))));
      expect(names.map((name) => b.local.get(name)?.accessKeyId)).toEqual(held.map(({ accessKeyId }) => accessKeyId));
      await client().call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      a.tier.invalidate(a.requestOf('t1'), undefined);
      a.tier.invalidate(a.requestOf('t2'), undefined);
      await eventually(() => !b.local.has('t1') && !b.local.has('t2'), 8_000);
      b.store.broken = true;
      a.tier.invalidate(a.requestOf('t3'), undefined);
      await eventually(() => a.tier.stats().invalidationsPropagated === 3, 5_000);
      const pipeline = client().pipeline();
      for (let i = 0; i < 12_000; i++)
        pipeline.xadd(`${prefix}log`, 'MAXLEN', '~', '10000', '*', 'a', `${prefix}{x${i}}`, 'o', `o${i}`, 'i', 'other', 't', '');
      await pipeline.exec();
      b.store.broken = false;
      await eventually(() => !b.local.has('t3'), 10_000);
    } finally {
      tiers.splice(0).forEach((tier) => tier.close());
      connections.forEach((connection) => connection.destroy());
    }
  }, 30_000);

  it('a replica whose clock runs ten minutes ahead of Redis still reads the invalidations of what it holds', async () => {
    const a = replica();
    const real = Date.now();
    const ahead = jest.spyOn(Date, 'now').mockReturnValue(real + 10 * 60_000);
    const b = (() => {
      try {
        return replica(); // started with its clock ahead
      } finally {
        ahead.mockRestore();
      }
    })();
    const held = await a.load('tenant', credentials('held'));
    expect((await b.load('tenant', credentials('unused'))).accessKeyId).toBe(held.accessKeyId);
    a.tier.invalidate(a.requestOf('tenant'), undefined);
    await eventually(() => !b.local.has('tenant'), 8_000);
  }, 30_000);

  it('fifty invalidations through an outage: one pending event, one propagated event, counters that add up', async () => {
    const a = replica();
    const names = Array.from({ length: 50 }, (_, i) => `tenant${i}`);
    await a.load('warm', credentials('warm')); // the base principal is known
    a.store.broken = true;
    names.forEach((name) => a.tier.invalidate(a.requestOf(name), undefined));
    await eventually(() => a.events.some((event) => event.state === 'invalidation-pending'), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // a few retry rounds fail
    expect(a.tier.stats()).toMatchObject({ invalidationsQueued: 50, invalidationsPropagated: 0, invalidationsPending: 50 });
    a.store.broken = false;
    await eventually(() => a.tier.stats().invalidationsPending === 0, 10_000);
    expect(a.tier.stats()).toMatchObject({ invalidationsQueued: 50, invalidationsPropagated: 50 });
    const states = a.events.map((event) => event.state);
    expect(states.filter((state) => state === 'invalidation-pending')).toHaveLength(1);
    expect(states.filter((state) => state === 'invalidations-propagated')).toHaveLength(1);
    expect(states.filter((state) => state === 'unavailable')).toHaveLength(1);
    expect(await client().xlen(`${prefix}log`)).toBe(50);
  }, 30_000);

  it('closing with invalidations pending while Redis fails makes one last bounded attempt, then sends nothing', async () => {
    const a = replica();
    await a.load('warm', credentials('warm'));
    a.store.broken = true;
    Array.from({ length: 40 }, (_, i) => a.tier.invalidate(a.requestOf(`tenant${i}`), undefined));
    await eventually(() => a.events.some((event) => event.state === 'invalidation-pending'), 5_000);
    const beforeClose = a.store.sent;
    a.tier.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lastAttempt = a.store.sent - beforeClose;
    expect(lastAttempt).toBeLessThanOrEqual(2 * 40); // each pending one at most once more (a round under way may finish)
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(a.store.sent - beforeClose).toBe(lastAttempt);
  }, 30_000);

  it('the log, values and channel name no access key id, secret, token, account, principal or request after every kind of invalidation', async () => {
    const heard: string[] = [];
    const listener = client();
    await listener.subscribe(`${prefix}events`);
    listener.on('message', (_channel, message) => heard.push(message));
    const newKey = randomBytes(32).toString('base64');
    const [a, b] = [replica({ keys: [newKey, key] }), replica()];
    const issued = [await a.load('plantedTenantA', credentials('planteda')), await b.load('plantedTenantB', credentials('plantedb'))];
    await a.load('plantedTenantB', credentials('unused'));
    a.tier.invalidateIfHolding(a.requestOf('plantedTenantA'), issued[0].accessKeyId, issued[0].expiration.getTime());
    b.tier.invalidate(b.requestOf('plantedTenantB'), issued[1].expiration.getTime());
    await eventually(() => !a.local.has('plantedTenantB'), 8_000);
    await eventually(() => heard.some((message) => message === 'log'), 5_000);
    const inspector = client();
    const keys = await inspector.keys(`${prefix}*`);
    const contents = await Promise.all(
      keys.map(async (name) =>
        (await inspector.type(name)) === 'stream' ? JSON.stringify(await inspector.xrange(name, '-', '+')) : inspector.get(name),
      ),
    );
    const text = JSON.stringify([keys, contents, heard]);
    expect(contents.join('\n')).toMatch(/"t","[\w-]{22}"/); // the conditional invalidation's tag is there, an HMAC
    const planted = [
      'plantedTenant',
      'canonical',
      '123456789012',
      'user/app',
      key,
      newKey,
      ...issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
    ];
    for (const secret of planted) expect(text).not.toContain(secret);
  }, 30_000);
});
