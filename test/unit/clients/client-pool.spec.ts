/**
 * `StsService.clientFor`: one SDK client per (client class, request, client config), kept in a bounded LRU, signing
 * with what the credential cache holds, and destroyed when it leaves the pool (eviction, invalidation of its
 * credentials, module destroy) — after the sends it is serving, streamed bodies included, have settled.
 */
import fc from 'fast-check';
import { createServer, Agent as HttpAgent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListBucketsCommand, S3Client, SelectObjectContentCommand, type S3ClientConfig } from '@aws-sdk/client-s3';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from 'aws-sdk-client-mock';
import { Test } from '@nestjs/testing';
import { sdkStreamMixin } from '@smithy/core/serde';
import { ServerAwsStsModule, StsService, StsValidationError, type AssumeRoleRequest } from '../../../src';
import { resolveStsConfig } from '../../../src/config/server-aws-sts.config';
import * as canonicalConfigModule from '../../../src/clients/canonical-config';
import { canonicalConfig } from '../../../src/clients/canonical-config';
import { eventually, rejection } from '../../support/async-helpers';
import { BASE_CREDENTIALS, OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, tenantRole } from '../../support/fixtures';

const stsMock = mockClient(STSClient);
const tenant: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'tenant-1-external' };
const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const MIN = 60_000;

/** STS answers AssumeRole with fresh credentials of the given lifetime, numbered 1, 2, 3… */
function answerAssumeRole(seconds = 3600) {
  let issued = 0;
  stsMock
    .on(AssumeRoleCommand)
    .callsFake((input: { RoleArn: string }) => Promise.resolve(assumeRoleOutput(input.RoleArn, seconds, `N${++issued}`)));
}

/** Every S3Client destroyed while the spy is on, in order. */
function destroyedS3Clients(): S3Client[] {
  const spy = jest.spyOn(S3Client.prototype, 'destroy');
  return spy.mock.contexts as S3Client[];
}

/** Stubs every S3Client's `send` for the block (nothing here may reach the network), and restores it after. */
function mockS3(): void {
  let s3: ReturnType<typeof mockClient> | undefined;
  beforeEach(() => (s3 = mockClient(S3Client as never)));
  afterEach(() => s3?.restore());
}

const services: StsService[] = [];
function service(config: Parameters<typeof createService>[0] = {}): StsService {
  const created = createService(config);
  services.push(created);
  return created;
}

beforeEach(() => {
  stsMock.reset();
  answerAssumeRole();
});
afterEach(() => {
  for (const created of services.splice(0)) created.onModuleDestroy();
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('clientFor: the configuration', () => {
  it('defaults clients.maxEntries to 100', () => {
    expect(resolveStsConfig({}).clients).toEqual({ maxEntries: 100 });
    expect(resolveStsConfig({ clients: { maxEntries: 10_000 } }).clients).toEqual({ maxEntries: 10_000 });
  });

  it.each([0, 10_001, 1.5, '100'])('refuses clients.maxEntries %p, naming the field and the range', (maxEntries) => {
    expect(() => resolveStsConfig({ clients: { maxEntries: maxEntries as number } })).toThrow(
      /clients\.maxEntries must be an integer between 1 and 10000/,
    );
  });

  it('refuses a clients option that is not an object', () => {
    expect(() => resolveStsConfig({ clients: 5 as never })).toThrow(/clients must be \{ maxEntries\?: number \}/);
  });
});

describe('clientFor: one client per (class, request, config)', () => {
  mockS3();

  it('returns the same client object for the same inputs, however the request and config objects are built', () => {
    const sts = service();
    const first = sts.clientFor(S3Client, { ...tenant }, { region: 'eu-west-1', maxAttempts: 2 });
    expect(
      sts.clientFor(S3Client, { externalId: tenant.externalId, roleArn: tenant.roleArn }, { maxAttempts: 2, region: 'eu-west-1' }),
    ).toBe(first);
    expect(sts.clientFor(S3Client, { ...tenant, durationSeconds: 3600 }, { region: 'eu-west-1', maxAttempts: 2 })).toBe(first); // the default duration, said out loud
    const bare = sts.clientFor(S3Client, tenant);
    expect(sts.clientFor(S3Client, tenant, {})).toBe(bare);
    expect(bare).not.toBe(first);
    expect(sts.cache.clientStats()).toMatchObject({ size: 2, created: 2, hits: 3, unpooled: 0 });
  });

  it.each<[string, AssumeRoleRequest, S3ClientConfig | undefined]>([
    ['ExternalId', { ...tenant, externalId: 'tenant-2-external' }, undefined],
    ['role ARN', { ...tenant, roleArn: OTHER_ROLE_ARN }, undefined],
    ['session name', { ...tenant, sessionName: 'reports' }, undefined],
    ['session tags', { ...tenant, tags: { tenant: '1' } }, undefined],
    ['region', tenant, { region: 'eu-west-1' }],
    ['nested option', tenant, { requestHandler: { requestTimeout: 5_000 } }],
    ['region given as undefined (it overrides AWS_REGION)', tenant, { region: undefined }],
  ])('gives a different %s its own client', (_what, request, config) => {
    const sts = service();
    const plain = sts.clientFor(S3Client, tenant);
    const other = sts.clientFor(S3Client, request, config);
    expect(other).not.toBe(plain);
    expect(sts.clientFor(S3Client, request, config)).toBe(other);
    expect(sts.clientFor(S3Client, tenant)).toBe(plain);
  });

  it('gives another client class its own client', () => {
    const sts = service();
    const s3Client = sts.clientFor(S3Client, tenant);
    const dynamo = sts.clientFor(DynamoDBClient, tenant);
    expect(dynamo).toBeInstanceOf(DynamoDBClient);
    expect(dynamo).not.toBe(s3Client);
    expect(sts.clientFor(DynamoDBClient, tenant)).toBe(dynamo);
  });

  it('never shares clients between two services (two module configurations)', () => {
    expect(service().clientFor(S3Client, tenant)).not.toBe(service().clientFor(S3Client, tenant));
  });

  it("builds the client from a copy of the config: changing the caller's object later reaches neither the client nor its key", async () => {
    const sts = service();
    const config = { region: 'eu-west-1', requestHandler: { requestTimeout: 5_000 } };
    const first = sts.clientFor(S3Client, tenant, config);
    config.region = 'ap-south-1';
    config.requestHandler.requestTimeout = 1;
    const second = sts.clientFor(S3Client, tenant, config);
    expect(second).not.toBe(first);
    expect(await first.config.region()).toBe('eu-west-1');
    expect(await second.config.region()).toBe('ap-south-1');
  });

  it('applies AWS_REGION and the config like createClient, with credentials from the cache', async () => {
    const sts = service({ AWS_REGION: 'eu-central-1' });
    const client = sts.clientFor(S3Client, tenant, { maxAttempts: 2 });
    expect(await client.config.region()).toBe('eu-central-1');
    expect(await client.config.maxAttempts()).toBe(2);
    expect((await client.config.credentials()).accessKeyId).toBe('ASIAEXAMPLEN1');
    expect((await sts.getCredentials(tenant)).accessKeyId).toBe('ASIAEXAMPLEN1');
    expect(sts.cache.stats()).toMatchObject({ size: 1, misses: 1, hits: 1 });
  });

  it('makes one client and one AssumeRole for 100 concurrent callers of one tenant', async () => {
    const sts = service();
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        await null;
        const client = sts.clientFor(S3Client, { ...tenant });
        return { client, credentials: await client.config.credentials() };
      }),
    );
    expect(new Set(results.map((result) => result.client)).size).toBe(1);
    expect(new Set(results.map((result) => result.credentials.accessKeyId))).toEqual(new Set(['ASIAEXAMPLEN1']));
    expect(sts.cache.clientStats()).toMatchObject({ size: 1, created: 1, hits: 99 });
    expect(assumeRoleCalls()).toBe(1);
  });
});

const assumeRoleCalls = () => stsMock.commandCalls(AssumeRoleCommand).length;

describe('clientFor: a repeat call with a flat config (the lookup that skips the key) still compares by value', () => {
  mockS3();

  it('a flat config changed between calls gets the client of its new values, and the old one back when they return', async () => {
    const sts = service();
    const config: S3ClientConfig = { region: 'eu-west-1', maxAttempts: 2 };
    const first = sts.clientFor(S3Client, tenant, config);
    expect(sts.clientFor(S3Client, tenant, config)).toBe(first);
    config.region = 'ap-south-1';
    const second = sts.clientFor(S3Client, tenant, config);
    expect(second).not.toBe(first);
    expect(await second.config.region()).toBe('ap-south-1');
    config.maxAttempts = 3;
    expect(sts.clientFor(S3Client, tenant, config)).not.toBe(second);
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1', maxAttempts: 2 })).toBe(first);
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1', maxAttempts: 2, useFipsEndpoint: undefined })).not.toBe(first);
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).not.toBe(first);
  });

  it('never crosses tenants or client classes: an equal config gives each (tenant, class) its own client', () => {
    const sts = service();
    const config = { region: 'eu-west-1' };
    const mine = sts.clientFor(S3Client, tenant, config);
    const theirs = sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN, externalId: 'tenant-2-external' }, config);
    const dynamo = sts.clientFor(DynamoDBClient, tenant, config);
    expect(new Set([mine, theirs, dynamo]).size).toBe(3);
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).toBe(mine);
    expect(sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN, externalId: 'tenant-2-external' }, { region: 'eu-west-1' })).toBe(theirs);
    expect(sts.clientFor(DynamoDBClient, tenant, { region: 'eu-west-1' })).toBe(dynamo);
    expect(sts.cache.clientStats()).toMatchObject({ created: 3, hits: 3 });
  });

  it('never hands out a client that left the pool: after an invalidation the same config gets a new client', () => {
    const destroyed = destroyedS3Clients();
    const sts = service();
    const first = sts.clientFor(S3Client, tenant, { region: 'eu-west-1' });
    sts.cache.invalidate(tenant);
    const second = sts.clientFor(S3Client, tenant, { region: 'eu-west-1' });
    expect(second).not.toBe(first);
    expect(destroyed).toContain(first);
    sts.cache.clear();
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).not.toBe(second);
  });

  it('a repeat call reads each property once, and a client is built only from the one reading of its key', async () => {
    const sts = service();
    let reads = 0;
    const regions = ['eu-west-1', 'eu-west-1', 'ap-south-1', 'us-east-2'];
    const config = {
      get region() {
        return regions[reads++];
      },
    };
    const first = sts.clientFor(S3Client, tenant, config);
    expect(reads).toBe(1);
    expect(sts.clientFor(S3Client, tenant, config)).toBe(first);
    expect(reads).toBe(2);
    // ap-south-1 is no repeat: the long way reads the config again and builds from that reading alone.
    const third = sts.clientFor(S3Client, tenant, config);
    expect(reads).toBe(4);
    expect(third).not.toBe(first);
    expect(await third.config.region()).toBe('us-east-2');
    expect(sts.clientFor(S3Client, tenant, { region: 'us-east-2' })).toBe(third);
  });

  it('a symbol key is not read, as a non-enumerable key is not: the client of the string keys, built without it, first call or repeat', () => {
    const extra = Symbol('extra');
    const hidden = Symbol('hidden');
    const withSymbols = () =>
      Object.defineProperty({ region: 'eu-west-1', [extra]: true }, hidden, { value: 'not enumerable' }) as S3ClientConfig;
    const sts = service();
    // First call with the symbols: pooled, and the client is built from a copy without them.
    const first = sts.clientFor(S3Client, tenant, withSymbols());
    expect(Object.getOwnPropertySymbols(first.config)).not.toContain(extra);
    expect(Object.getOwnPropertySymbols(first.config)).not.toContain(hidden);
    // The same client for the config without them, and for the symbols again (the repeat call's memo).
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).toBe(first);
    expect(sts.clientFor(S3Client, tenant, withSymbols())).toBe(first);
    expect(sts.cache.clientStats()).toMatchObject({ created: 1, hits: 2, unpooled: 0 });
    // A symbol-keyed config's string keys still compare by value.
    expect(sts.clientFor(S3Client, tenant, { region: 'us-east-2', [extra]: true } as S3ClientConfig)).not.toBe(first);
  });

  it('a symbol key is never read: not a throwing getter, not nested, not one added to the same object between calls', () => {
    const extra = Symbol('extra');
    const sts = service();
    const config: Record<string | symbol, unknown> = { region: 'eu-west-1', requestHandler: { requestTimeout: 5_000, [extra]: () => 1 } };
    Object.defineProperty(config, extra, {
      enumerable: true,
      get: () => {
        throw new Error('a symbol-keyed getter was read');
      },
    });
    const first = sts.clientFor(S3Client, tenant, config as S3ClientConfig);
    expect(sts.clientFor(S3Client, tenant, config as S3ClientConfig)).toBe(first);
    const flat: Record<string | symbol, unknown> = { region: 'eu-west-1' };
    const flatClient = sts.clientFor(S3Client, tenant, flat as S3ClientConfig);
    flat[extra] = 'added';
    expect(sts.clientFor(S3Client, tenant, flat as S3ClientConfig)).toBe(flatClient);
    delete flat[extra];
    expect(sts.clientFor(S3Client, tenant, flat as S3ClientConfig)).toBe(flatClient);
    expect(sts.cache.clientStats()).toMatchObject({ created: 2, hits: 3, unpooled: 0 });
  });

  it("a repeat call refreshes the client's place in the LRU: the config used last survives the next eviction", () => {
    const destroyed = destroyedS3Clients();
    const sts = service({ clients: { maxEntries: 2 } });
    const kept = sts.clientFor(S3Client, tenant, { region: 'eu-west-1' });
    const other = sts.clientFor(S3Client, tenant, { region: 'us-east-2' });
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).toBe(kept);
    sts.clientFor(S3Client, tenant, { region: 'ap-south-1' });
    expect(destroyed).toEqual([other]);
  });
});

describe('clientFor: what the per-request memo of recent clients keeps (perf review)', () => {
  mockS3();

  it('keeps no client that left the pool alive: a pool of 2 used by 30 tenants holds on to at most its 2 clients', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sts = service({ clients: { maxEntries: 2 } });
    const tenants = Array.from({ length: 30 }, (_, i): AssumeRoleRequest => ({ roleArn: ROLE_ARN, externalId: `tenant-${i}-external` }));
    // Each tenant is served twice (the second call is the memo's hit), then pushed out of the pool by the next ones.
    const clients = tenants.map((request) => {
      sts.clientFor(S3Client, request, { region: 'eu-west-1' });
      return new WeakRef(sts.clientFor(S3Client, request, { region: 'eu-west-1' }));
    });
    expect(sts.cache.clientStats()).toMatchObject({ size: 2, created: 30, destroyed: 28 });
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // The tenants' lookups stay in the request index (they are still asked for), but the clients destroyed are garbage.
    const alive = clients.filter((client) => client.deref() !== undefined).length;
    expect(alive).toBeLessThanOrEqual(2);
    expect(tenants.length).toBe(30); // the requests are kept, as a service keeps its tenants' requests
  });

  it('hands out exactly the client the config key names, whatever the order of flat configs, tenants and classes (fast-check)', () => {
    const configs: Array<() => Record<string, unknown> | undefined> = [
      () => undefined,
      () => ({}),
      () => ({ region: 'eu-west-1' }),
      () => ({ region: 'eu-west-1', maxAttempts: 3 }),
      () => ({ maxAttempts: 3, region: 'eu-west-1' }),
      () => ({ region: 'eu-west-1', maxAttempts: '3' }),
      () => ({ region: 'eu-west-1', maxAttempts: undefined }),
      () => ({ region: 'eu-west-1', maxAttempts: null }),
      () => ({ region: 'eu-west-1', maxAttempts: NaN }),
      () => ({ region: 'eu-west-1', maxAttempts: -0 }),
      () => ({ region: 'eu-west-1', maxAttempts: 0 }),
      () => ({ region: 'eu-west-1', useFipsEndpoint: false }),
      () => ({ region: 'eu-west-1', useFipsEndpoint: 'false' }),
      () => Object.assign(Object.create(null) as object, { region: 'eu-west-1' }),
      () => JSON.parse('{"region":"eu-west-1","__proto__":"x"}') as Record<string, unknown>,
      () => ({
        get region() {
          return 'eu-west-1';
        },
      }),
    ];
    const tenants: AssumeRoleRequest[] = [tenant, { roleArn: OTHER_ROLE_ARN, externalId: 'tenant-2-external' }];
    const classes = [S3Client, DynamoDBClient] as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(configs.length - 1), fc.nat(1), fc.nat(1)), { minLength: 2, maxLength: 12 }), (calls) => {
        const sts = service();
        const named = new Map<string, unknown>();
        for (const [config, who, which] of calls) {
          const name = `${which}\n${who}\n${canonicalConfig(configs[config]())!.key}`;
          const client = sts.clientFor(classes[which] as typeof S3Client, tenants[who], configs[config]() as never);
          if (!named.has(name)) {
            expect([...named.values()]).not.toContain(client);
            named.set(name, client);
          }
          expect(client).toBe(named.get(name));
        }
        sts.onModuleDestroy();
      }),
      { seed: 20261203, numRuns: 150 },
    );
  });

  it('the same, with one config object mutated between calls (keys reordered, renamed, hidden, a symbol added) and configs never pooled (fast-check)', () => {
    const symbol = Symbol('extra');
    type Config = Record<string | symbol, unknown>;
    const sequence = (): Array<(shared: Config) => Config> => [
      () => ({ region: 'eu-west-1', maxAttempts: 3 }),
      () => ({ maxAttempts: 3, region: 'eu-west-1' }),
      // The same values in the same places under each other's names: another config.
      () => ({ maxAttempts: 'eu-west-1', region: 3 }),
      () => ({ region: 'eu-west-1', retryMode: 3 }),
      () => Object.assign(Object.create(null) as Config, { maxAttempts: 3, region: 'eu-west-1' }),
      () => Object.defineProperty({ region: 'eu-west-1' }, 'maxAttempts', { value: 3 }), // not enumerable: not read
      () => ({ region: 'eu-west-1', requestHandler: { requestTimeout: 5_000 } }),
      () => ({
        get maxAttempts() {
          return 3;
        },
        region: 'eu-west-1',
      }),
      // A symbol key (enumerable or not) is not read: the config of its string keys.
      () => ({ region: 'eu-west-1', maxAttempts: 3, [symbol]: true }),
      () => Object.defineProperty({ region: 'eu-west-1', maxAttempts: 3 }, symbol, { value: true }),
      // Never pooled: an inherited field, an array.
      () => Object.assign(Object.create({ maxAttempts: 3 }) as Config, { region: 'eu-west-1' }),
      () => ['eu-west-1', 3] as unknown as Config,
      // One object changed in place between calls.
      (shared) => Object.assign(shared, { region: 'eu-west-1', maxAttempts: 3 }),
      (shared) => {
        const { region } = shared;
        delete shared.region;
        return Object.assign(shared, { region }); // the same values, its keys in another order
      },
      (shared) => Object.assign(shared, { region: 3, maxAttempts: 'eu-west-1' }),
      (shared) => {
        delete shared.maxAttempts;
        return Object.assign(shared, { retryMode: 3 });
      },
      (shared) => Object.defineProperty(shared, symbol, { value: true, configurable: true }),
      (shared) => {
        delete shared[symbol];
        return shared;
      },
      (shared) => Object.defineProperty(shared, 'region', { enumerable: false }),
      (shared) => Object.defineProperty(shared, 'region', { enumerable: true }),
    ];
    const classes = [S3Client, DynamoDBClient] as const;
    const tenants: AssumeRoleRequest[] = [tenant, { roleArn: OTHER_ROLE_ARN, externalId: 'tenant-2-external' }];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(sequence().length - 1), fc.nat(1), fc.nat(1)), { minLength: 2, maxLength: 16 }), (calls) => {
        const sts = service();
        const configs = sequence();
        const shared: Config = { region: 'eu-west-1' };
        const named = new Map<string, unknown>();
        const handedOut = new Set<unknown>();
        for (const [config, who, which] of calls) {
          const given = configs[config](shared);
          const read = canonicalConfig(given);
          const client = sts.clientFor(classes[which] as typeof S3Client, tenants[who], given as never);
          if (read === undefined) {
            // Not comparable: a client of its own, never one handed out before, and never pooled.
            expect(handedOut.has(client)).toBe(false);
          } else {
            const name = `${which}\n${who}\n${read.key}`;
            if (!named.has(name)) {
              expect(handedOut.has(client)).toBe(false);
              named.set(name, client);
            }
            expect(client).toBe(named.get(name));
          }
          handedOut.add(client);
        }
        expect(sts.cache.clientStats().size).toBe(named.size);
        sts.onModuleDestroy();
      }),
      { seed: 20261204, numRuns: 200 },
    );
  });

  it('a repeat call with the same fields in another order gets the same client, each property read once per call', () => {
    const sts = service();
    let reads = 0;
    const counted = <T>(value: T) => ({
      get() {
        reads++;
        return value;
      },
      enumerable: true,
    });
    const first = sts.clientFor(S3Client, tenant, { region: 'eu-west-1', maxAttempts: 2 });
    for (const config of [
      Object.defineProperties({}, { region: counted('eu-west-1'), maxAttempts: counted(2) }),
      Object.defineProperties({}, { maxAttempts: counted(2), region: counted('eu-west-1') }),
      Object.defineProperties(Object.create(null) as object, { maxAttempts: counted(2), region: counted('eu-west-1') }),
    ]) {
      reads = 0;
      expect(sts.clientFor(S3Client, tenant, config)).toBe(first);
      expect(reads).toBe(2);
    }
    expect(sts.cache.clientStats()).toMatchObject({ created: 1, hits: 3 });
  });

  it('a repeat call with an equal flat config (or none) never makes the config key, whatever order its fields come in', () => {
    const sts = service();
    const keyed = jest.spyOn(canonicalConfigModule, 'canonicalConfig');
    const bare = sts.clientFor(S3Client, tenant);
    const three = sts.clientFor(S3Client, tenant, { maxAttempts: 2, region: 'eu-west-1', useFipsEndpoint: false });
    expect(keyed).toHaveBeenCalledTimes(2);
    const orders = [
      () => ({ maxAttempts: 2, useFipsEndpoint: false, region: 'eu-west-1' }), // the first in its place, the others swapped
      () => ({ region: 'eu-west-1', maxAttempts: 2, useFipsEndpoint: false }),
      () => ({ useFipsEndpoint: false, region: 'eu-west-1', maxAttempts: 2 }),
    ];
    for (let call = 0; call < 9; call++) {
      expect(sts.clientFor(S3Client, tenant, orders[call % 3]())).toBe(three);
      expect(sts.clientFor(S3Client, tenant)).toBe(bare);
    }
    expect(keyed).toHaveBeenCalledTimes(2);
  });

  it("an enumerable field on Object.prototype (a polluted prototype) is not the config's: it never makes a config equal to another", () => {
    const sts = service();
    const withAttempts = sts.clientFor(S3Client, tenant, { region: 'eu-west-1', maxAttempts: 3 });
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.maxAttempts = 3;
    try {
      const regionOnly = sts.clientFor(S3Client, tenant, { region: 'eu-west-1' });
      expect(regionOnly).not.toBe(withAttempts);
      expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).toBe(regionOnly);
      expect(sts.clientFor(S3Client, tenant, { maxAttempts: 3, region: 'eu-west-1' })).toBe(withAttempts);
    } finally {
      delete polluted.maxAttempts;
    }
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1' })).not.toBe(withAttempts);
  });

  it("one request object switched to another tenant between calls gets that tenant's client, with an equal flat config", async () => {
    const sts = service();
    const request: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'tenant-1-external' };
    const config = { region: 'eu-west-1' };
    const mine = sts.clientFor(S3Client, request, config);
    request.externalId = 'tenant-2-external';
    const theirs = sts.clientFor(S3Client, request, config);
    expect(theirs).not.toBe(mine);
    await theirs.config.credentials();
    expect(stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId)).toEqual(['tenant-2-external']);
    request.externalId = 'tenant-1-external';
    expect(sts.clientFor(S3Client, request, config)).toBe(mine);
  });

  it('a config with a nested object, a function or a class instance changed between calls never gets the earlier client', async () => {
    const sts = service();
    const nested = { region: 'eu-west-1', retryStrategyOptions: { maxAttempts: 2 } } as S3ClientConfig & Record<string, unknown>;
    const first = sts.clientFor(S3Client, tenant, nested);
    expect(sts.clientFor(S3Client, tenant, nested)).toBe(first);
    (nested.retryStrategyOptions as { maxAttempts: number }).maxAttempts = 3;
    expect(sts.clientFor(S3Client, tenant, nested)).not.toBe(first);
    // Equal but for a function: not comparable, so never pooled and never a pooled one handed out.
    const flat = sts.clientFor(S3Client, tenant, { region: 'eu-west-1' });
    expect(sts.clientFor(S3Client, tenant, { region: 'eu-west-1', logger: undefined })).not.toBe(flat);
    const withFunction = { region: 'eu-west-1', endpoint: () => Promise.resolve(new URL('https://s3.example')) } as never;
    const unpooled = sts.clientFor(S3Client, tenant, withFunction);
    expect(unpooled).not.toBe(flat);
    const handler = new NodeHttpHandler({ connectionTimeout: 1_000 });
    const withHandler = sts.clientFor(S3Client, tenant, { region: 'eu-west-1', requestHandler: handler });
    expect(withHandler).not.toBe(flat);
    const again = sts.clientFor(S3Client, tenant, { region: 'eu-west-1', requestHandler: handler });
    expect(again).not.toBe(withHandler);
    // A flat config whose value turns into an object, or a config that is a class instance with equal fields.
    const shifting: Record<string, unknown> = { region: 'eu-west-1' };
    expect(sts.clientFor(S3Client, tenant, shifting)).toBe(flat);
    shifting.region = { toString: () => 'eu-west-1' };
    expect(sts.clientFor(S3Client, tenant, shifting)).not.toBe(flat);
    class Config {
      region = 'eu-west-1';
    }
    expect(sts.clientFor(S3Client, tenant, new Config())).not.toBe(flat);
    for (const client of [unpooled, withHandler, again]) client.destroy();
  });
});

describe('clientFor: bounded, and destroyed when it leaves the pool', () => {
  mockS3();

  it('keeps at most clients.maxEntries clients: 200 tenants through a pool of 100 leave 100 alive, the least recently used destroyed', () => {
    const destroyed = destroyedS3Clients();
    const sts = service({ clients: { maxEntries: 100 } });
    const clients = Array.from({ length: 200 }, (_, index) =>
      sts.clientFor(S3Client, { roleArn: tenantRole(index), externalId: `tenant-${index}` }),
    );
    expect(new Set(clients).size).toBe(200);
    expect(destroyed).toHaveLength(100);
    expect(new Set(destroyed)).toEqual(new Set(clients.slice(0, 100)));
    const alive = clients.filter((client) => !destroyed.includes(client));
    expect(alive).toHaveLength(100);
    expect(sts.cache.clientStats()).toMatchObject({ size: 100, created: 200, destroyed: 100, draining: 0 });
    // The survivors are still served from the pool; an evicted tenant gets a new client.
    expect(sts.clientFor(S3Client, { roleArn: tenantRole(150), externalId: 'tenant-150' })).toBe(clients[150]);
    const again = sts.clientFor(S3Client, { roleArn: tenantRole(0), externalId: 'tenant-0' });
    expect(again).not.toBe(clients[0]);
    expect(destroyed).toHaveLength(101);
  });

  it('a use refreshes recency: the tenant used last survives the next eviction', () => {
    const destroyed = destroyedS3Clients();
    const sts = service({ clients: { maxEntries: 2 } });
    const a = sts.clientFor(S3Client, { roleArn: tenantRole(1) });
    const b = sts.clientFor(S3Client, { roleArn: tenantRole(2) });
    expect(sts.clientFor(S3Client, { roleArn: tenantRole(1) })).toBe(a);
    sts.clientFor(S3Client, { roleArn: tenantRole(3) });
    expect(destroyed).toEqual([b]);
  });

  it.each<[string, (sts: StsService) => Promise<unknown>]>([
    ['invalidate(request)', async (sts) => sts.cache.invalidate({ ...tenant })],
    ['invalidateWhere (cached credentials)', async (sts) => sts.cache.invalidateWhere((entry) => entry.accountId === '123456789012')],
    ['invalidateIfCurrent', async (sts) => sts.cache.invalidateIfCurrent(await sts.getCredentials(tenant))],
    ['clear', async (sts) => sts.cache.clear()],
  ])(
    '%s drops the client with its credentials: the old one is destroyed, the next clientFor builds a new one',
    async (_how, invalidate) => {
      const destroyed = destroyedS3Clients();
      const sts = service();
      const client = sts.clientFor(S3Client, tenant);
      const other = sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN, externalId: 'x-1' });
      await client.config.credentials(); // cached
      await invalidate(sts);
      expect(destroyed).toContain(client);
      const next = sts.clientFor(S3Client, tenant);
      expect(next).not.toBe(client);
      expect((await next.config.credentials()).accessKeyId).toBe('ASIAEXAMPLEN2');
      expect(destroyed).not.toContain(next);
      if (!destroyed.includes(other)) expect(sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN, externalId: 'x-1' })).toBe(other);
    },
  );

  it('invalidate and invalidateWhere also drop a client whose credentials are not cached (never fetched, or cache: false)', async () => {
    const destroyed = destroyedS3Clients();
    const sts = service({ cache: false });
    const client = sts.clientFor(S3Client, tenant);
    const other = sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN });
    expect(sts.cache.invalidate(tenant)).toBe(false); // no credentials were dropped…
    expect(destroyed).toEqual([client]); // …but the client was
    await expect(sts.cache.invalidateWhere((entry) => entry.roleArn === OTHER_ROLE_ARN)).resolves.toBe(0);
    expect(destroyed).toEqual([client, other]);
    expect(sts.cache.clientStats().size).toBe(0);
  });

  it('invalidateWhere keeps the clients of requests it does not select', async () => {
    const destroyed = destroyedS3Clients();
    const sts = service();
    const kept = sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN });
    const dropped = sts.clientFor(S3Client, tenant);
    await kept.config.credentials();
    await expect(sts.cache.invalidateWhere((entry) => entry.roleArn === ROLE_ARN)).resolves.toBe(0);
    expect(destroyed).toEqual([dropped]);
    expect(sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN })).toBe(kept);
  });

  it('module destroy destroys every pooled client', () => {
    const destroyed = destroyedS3Clients();
    const sts = createService();
    const clients = [
      sts.clientFor(S3Client, tenant),
      sts.clientFor(S3Client, tenant, { region: 'eu-west-1' }),
      sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN }),
    ];
    const dynamo = sts.clientFor(DynamoDBClient, tenant);
    const dynamoDestroy = jest.spyOn(dynamo, 'destroy');
    sts.onModuleDestroy();
    expect(new Set(destroyed)).toEqual(new Set(clients));
    expect(dynamoDestroy).toHaveBeenCalledTimes(1);
    expect(sts.cache.clientStats()).toMatchObject({ size: 0, destroyed: 4 });
  });

  it('pools nothing after module destroy: a late clientFor gets a client of its own, not one no one would destroy', () => {
    const sts = createService();
    sts.onModuleDestroy();
    const late = sts.clientFor(S3Client, tenant);
    expect(sts.clientFor(S3Client, tenant)).not.toBe(late);
    expect(sts.cache.clientStats()).toMatchObject({ size: 0, unpooled: 2 });
    late.destroy();
  });

  it('destroys the sockets a pooled client built from plain handler options', () => {
    const sts = service();
    const client = sts.clientFor(S3Client, tenant, { requestHandler: { requestTimeout: 5_000 } });
    const handlerDestroy = jest.spyOn(client.config.requestHandler as NodeHttpHandler, 'destroy');
    sts.cache.invalidate(tenant);
    expect(handlerDestroy).toHaveBeenCalledTimes(1);
  });
});

describe('clientFor: a config that cannot be compared gets its own client each time, never pooled', () => {
  mockS3();

  const handler = new NodeHttpHandler({ requestTimeout: 5_000 });
  const agent = new HttpAgent({ keepAlive: true });
  afterAll(() => {
    handler.destroy();
    agent.destroy();
  });

  it.each<[string, () => S3ClientConfig]>([
    ['a request handler instance', () => ({ requestHandler: handler })],
    ['an agent instance in the handler options', () => ({ requestHandler: { httpAgent: agent } })],
    [
      'a function',
      () => ({
        region: 'eu-west-1',
        logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      }),
    ],
    ['a class instance', () => ({ endpoint: new URL('https://s3.example.com') as never })],
    [
      'a cycle',
      () => {
        const looped: Record<string, unknown> = { requestTimeout: 5_000 };
        looped.self = looped;
        return { requestHandler: looped as never };
      },
    ],
  ])('%s', (_what, config) => {
    const destroyed = destroyedS3Clients();
    const sts = service();
    const first = sts.clientFor(S3Client, tenant, config());
    const second = sts.clientFor(S3Client, tenant, config());
    expect(second).not.toBe(first);
    expect(sts.cache.clientStats()).toMatchObject({ size: 0, created: 0, unpooled: 2 });
    // Not the pool's: neither an invalidation nor module destroy touches them (or a handler or agent the user owns).
    const handlerDestroy = jest.spyOn(handler, 'destroy');
    const agentDestroy = jest.spyOn(agent, 'destroy');
    sts.cache.invalidate(tenant);
    sts.onModuleDestroy();
    expect(destroyed).toEqual([]);
    expect(handlerDestroy).not.toHaveBeenCalled();
    expect(agentDestroy).not.toHaveBeenCalled();
  });

  it('canonicalConfig: plain data by value, key order ignored, undefined kept; anything else not comparable', () => {
    const key = (config: unknown) => canonicalConfig(config)?.key;
    expect(key(undefined)).toBe(key({}));
    expect(key({ a: 1, b: [true, null, 'x'] })).toBe(key({ b: [true, null, 'x'], a: 1 }));
    expect(key({ a: undefined })).not.toBe(key({}));
    expect(key({ a: '1' })).not.toBe(key({ a: 1 }));
    expect(key({ a: [1, 2] })).not.toBe(key({ a: [2, 1] }));
    expect(key({ a: { b: 1 } })).not.toBe(key({ 'a.b': 1 }));
    expect(key(Object.create(null, { a: { value: 1, enumerable: true } }))).toBe(key({ a: 1 }));
    for (const value of [() => 1, new Date(0), new Map(), 1n, Symbol('s'), new (class Options {})(), new Uint8Array(2)]) {
      expect(canonicalConfig({ nested: { value } })).toBeUndefined();
    }
  });

  it('canonicalConfig copies what it read into plain objects, own keys only, `__proto__` kept as a key', () => {
    const config = JSON.parse('{"b":[1,{"c":null}],"__proto__":{"polluted":true},"u":"x"}') as Record<string, unknown>;
    const read = canonicalConfig(config)!;
    expect(read.config).toEqual(config);
    expect(read.config).not.toBe(config);
    expect((read.config.b as unknown[])[1]).not.toBe((config.b as unknown[])[1]);
    expect(Object.getPrototypeOf(read.config)).toBe(Object.prototype);
    expect(Object.keys(read.config)).toContain('__proto__');
    expect(canonicalConfig(read.config)?.key).toBe(read.key);
  });

  it('keys exactly what it builds: a config whose getter answers differently each read never gives a caller a client of another region', async () => {
    const sts = service();
    let reads = 0;
    const alternating = {
      get region() {
        return ++reads % 2 === 1 ? 'ap-south-1' : 'sa-east-1';
      },
    };
    const callers = [
      alternating,
      { region: 'ap-south-1' },
      alternating,
      { region: 'sa-east-1' },
      alternating,
      { region: 'ap-south-1' },
      { region: 'sa-east-1' },
    ];
    for (const config of callers) {
      const client = sts.clientFor(S3Client, tenant, config);
      const region = await client.config.region();
      // The pooled client of this region, as a plain caller of that region gets it, is this one.
      expect(sts.clientFor(S3Client, tenant, { region }) === client).toBe(true);
    }
    expect(await sts.clientFor(S3Client, tenant, { region: 'ap-south-1' }).config.region()).toBe('ap-south-1');
    expect(await sts.clientFor(S3Client, tenant, { region: 'sa-east-1' }).config.region()).toBe('sa-east-1');
    expect(sts.cache.clientStats()).toMatchObject({ size: 2, created: 2 });
  });

  it('a request with an MFA code is never pooled: its code is sent, not keyed', () => {
    const sts = service();
    const request = { ...tenant, mfa: { serialNumber: 'arn:aws:iam::111111111111:mfa/alice', tokenCode: () => '123456' } };
    const withCode = { ...tenant, mfa: { serialNumber: 'arn:aws:iam::111111111111:mfa/alice', tokenCode: '123456' } };
    expect(sts.clientFor(S3Client, request)).not.toBe(sts.clientFor(S3Client, request));
    // Nor with a flat config, asked again (the memo of recent clients), after the same tenant's plain request was pooled.
    const plain = sts.clientFor(S3Client, tenant, { region: 'eu-west-1' });
    for (const mfa of [request, withCode, request, withCode]) {
      const client = sts.clientFor(S3Client, mfa, { region: 'eu-west-1' });
      expect(client).not.toBe(plain);
      expect(sts.clientFor(S3Client, mfa, { region: 'eu-west-1' })).not.toBe(client);
    }
    expect(sts.cache.clientStats()).toMatchObject({ size: 1, unpooled: 10 });
  });

  it('an MFA code on a role-chaining hop, or added to a request object after it was pooled, is never answered from the memo', () => {
    const sts = service();
    const mfa = { serialNumber: 'arn:aws:iam::111111111111:mfa/alice', tokenCode: '123456' };
    const config = () => ({ region: 'eu-west-1' });
    // The same chain without MFA is pooled first, and its memo holds the client.
    const chained = { roleArn: OTHER_ROLE_ARN, via: { ...tenant } };
    const pooled = sts.clientFor(S3Client, chained, config());
    expect(sts.clientFor(S3Client, chained, config())).toBe(pooled);
    const withMfaOnHop = { roleArn: OTHER_ROLE_ARN, via: { ...tenant, mfa } };
    const first = sts.clientFor(S3Client, withMfaOnHop, config());
    expect(first).not.toBe(pooled);
    expect(sts.clientFor(S3Client, withMfaOnHop, config())).not.toBe(first);
    // One request object, pooled plain, then given a code in place.
    const request: AssumeRoleRequest = { ...tenant };
    const plain = sts.clientFor(S3Client, request, config());
    expect(sts.clientFor(S3Client, request, config())).toBe(plain);
    request.mfa = mfa;
    expect(sts.clientFor(S3Client, request, config())).not.toBe(plain);
    delete request.mfa;
    expect(sts.clientFor(S3Client, request, config())).toBe(plain);
    expect(sts.cache.clientStats()).toMatchObject({ size: 2, created: 2, unpooled: 3 });
  });
});

describe('clientFor: credentials from the cache', () => {
  mockS3();
  beforeEach(() => {
    jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick'] });
    jest.spyOn(Math, 'random').mockReturnValue(0);
  });

  it('the pooled client resolves what the cache holds after a refresh, without being rebuilt', async () => {
    const sts = service({ cache: { refreshWindowSeconds: 0 } });
    const client = sts.clientFor(S3Client, tenant);
    expect((await client.config.credentials()).accessKeyId).toBe('ASIAEXAMPLEN1');
    jest.setSystemTime(T0 + 30 * MIN);
    expect(sts.clientFor(S3Client, tenant)).toBe(client);
    expect((await client.config.credentials()).accessKeyId).toBe('ASIAEXAMPLEN1');
    expect(assumeRoleCalls()).toBe(1);
    jest.setSystemTime(T0 + 60 * MIN - 59_000); // inside the mandatory window of 1-hour credentials: a blocking refresh
    expect(sts.clientFor(S3Client, tenant)).toBe(client);
    const refreshed = await client.config.credentials();
    expect(refreshed.accessKeyId).toBe('ASIAEXAMPLEN2');
    expect(refreshed).toBe(await sts.getCredentials(tenant));
    expect(assumeRoleCalls()).toBe(2);
    expect(sts.cache.stats()).toMatchObject({ refreshes: 1 });
  });

  it("a request STS would refuse rejects like createClient's provider, sends nothing, and pools nothing", async () => {
    const sts = service();
    const client = sts.clientFor(S3Client, { roleArn: 'not-an-arn', externalId: 'tenant-1-external' });
    const error = await rejection<StsValidationError>(client.config.credentials());
    expect(error).toBeInstanceOf(StsValidationError);
    expect(error.field).toBe('roleArn');
    const fromCreateClient = await rejection<StsValidationError>(
      sts.createClient(S3Client, { roleArn: 'not-an-arn' }).config.credentials(),
    );
    expect(fromCreateClient.message).toBe(error.message);
    expect(assumeRoleCalls()).toBe(0);
    expect(sts.cache.clientStats()).toMatchObject({ size: 0, unpooled: 1 });
    client.destroy();
  });

  it('with cache: false the pooled client asks STS at each resolution', async () => {
    const sts = service({ cache: false });
    const client = sts.clientFor(S3Client, tenant);
    await client.config.credentials();
    await sts.clientFor(S3Client, tenant).config.credentials();
    expect(assumeRoleCalls()).toBe(2);
    expect(sts.cache.clientStats()).toMatchObject({ size: 1, created: 1, hits: 1 });
  });
});

/** One S3 SelectObjectContent event in the real `application/vnd.amazon.eventstream` framing. */
const eventStreamCodec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);
function selectEvent(eventType: 'Records' | 'End', payload = ''): Uint8Array {
  return eventStreamCodec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/octet-stream' },
    },
    body: new Uint8Array(Buffer.from(payload)),
  });
}

/**
 * A local S3 over real sockets (path style): ListBuckets answers at once; GET /bucket/slow streams its body in two
 * parts, the second when the test says so; SelectObjectContent (POST /bucket/records?select) streams ten `Records`
 * events, three at once and the other seven slowly when the test says so, then `End`. Proves that a pooled client is
 * destroyed only after what it serves. Every request's SigV4 credential scope is kept.
 */
class LocalS3 {
  private server!: Server;
  readonly requests: string[] = [];
  /** The credential scope each request was signed for: `<date>/<region>/s3/aws4_request`. */
  readonly scopes: string[] = [];
  private releaseSlow: (() => void)[] = [];
  endpoint = '';

  async start(): Promise<void> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => this.answer(request, response));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sends the rest of every slow body started so far (the records of a select slowly, one by one). */
  finishSlowBodies(): void {
    for (const release of this.releaseSlow.splice(0)) release();
  }

  async stop(): Promise<void> {
    this.finishSlowBodies();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    this.requests.push(`${request.method} ${request.url}`);
    this.scopes.push(/Credential=[A-Z0-9]+\/([^,]+),/.exec(request.headers.authorization ?? '')?.[1] ?? 'unsigned');
    request.resume();
    if (request.url?.startsWith('/bucket/records?select')) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const records = Array.from({ length: 10 }, (_, index) => selectEvent('Records', `record-${index + 1}\n`));
      for (const record of records.splice(0, 3)) response.write(record);
      const writeRest = (): void => {
        if (response.destroyed) return;
        const record = records.shift();
        if (record === undefined) {
          response.end(selectEvent('End'));
          return;
        }
        response.write(record);
        setTimeout(writeRest, 10); // slowly
      };
      this.releaseSlow.push(writeRest);
      return;
    }
    if (request.url?.startsWith('/bucket/slow')) {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' });
      response.write('first');
      this.releaseSlow.push(() => response.end('-last'));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end(
      '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets></Buckets></ListAllMyBucketsResult>',
    );
  }
}

describe('clientFor over real sockets (a local S3)', () => {
  const s3 = new LocalS3();
  const config = (): S3ClientConfig => ({ endpoint: s3.endpoint, forcePathStyle: true, maxAttempts: 1 });
  beforeAll(() => s3.start());
  afterAll(() => s3.stop());

  it("serves 100 concurrent requests of one tenant with one client and one AssumeRole, signed with the role's credentials", async () => {
    const sts = service();
    const signedWith = new Set<string>();
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const client = sts.clientFor(S3Client, { ...tenant }, config());
        client.middlewareStack.add(
          (next) => async (args) => {
            const headers = (args.request as { headers: Record<string, string> }).headers;
            signedWith.add(/Credential=([A-Z0-9]+)\//.exec(headers.authorization)?.[1] ?? 'unsigned');
            return next(args);
          },
          { step: 'finalizeRequest', priority: 'low', name: 'specSeesSignature', override: true },
        );
        return { client, output: await client.send(new ListBucketsCommand({})) };
      }),
    );
    expect(new Set(results.map((result) => result.client)).size).toBe(1);
    expect(results.every((result) => result.output.$metadata.httpStatusCode === 200)).toBe(true);
    expect(assumeRoleCalls()).toBe(1);
    expect([...signedWith]).toEqual(['ASIAEXAMPLEN1']);
  });

  it('an invalid request fails the send before anything reaches STS or S3', async () => {
    const sts = service();
    const before = s3.requests.length;
    const error = await rejection(
      sts.clientFor(S3Client, { roleArn: 'arn:aws:iam::12345:role/Short' }, config()).send(new ListBucketsCommand({})),
    );
    expect(error).toBeInstanceOf(StsValidationError);
    expect(assumeRoleCalls()).toBe(0);
    expect(s3.requests.length).toBe(before);
  });

  it('an invalidation during a send retires the client: destroyed when the send settles, not before', async () => {
    const sts = service();
    const client = sts.clientFor(S3Client, tenant, config());
    const destroy = jest.spyOn(client, 'destroy');
    const sending = client.send(new ListBucketsCommand({}));
    await new Promise((resolve) => setImmediate(resolve));
    sts.cache.invalidate(tenant);
    expect(sts.clientFor(S3Client, tenant, config())).not.toBe(client); // new callers get a new client at once
    expect(destroy).not.toHaveBeenCalled();
    expect(sts.cache.clientStats()).toMatchObject({ draining: 1 });
    await expect(sending).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(sts.cache.clientStats()).toMatchObject({ draining: 0, destroyed: 1 });
  });

  it('a client evicted while its response body streams is destroyed once the body is read, and the body arrives whole', async () => {
    const sts = service({ clients: { maxEntries: 1 } });
    const client = sts.clientFor(S3Client, tenant, config());
    const destroy = jest.spyOn(client, 'destroy');
    const { Body } = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'slow' }));
    sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN }, config()); // evicts the first
    await new Promise((resolve) => setImmediate(resolve));
    expect(destroy).not.toHaveBeenCalled();
    const text = Body!.transformToString();
    s3.finishSlowBodies();
    expect(await text).toBe('first-last');
    await new Promise((resolve) => setImmediate(resolve));
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('a client kept past its time still works, and the sockets a late send opens are closed when it settles', async () => {
    const sts = service();
    const kept = sts.clientFor(S3Client, tenant, config());
    sts.cache.invalidate(tenant);
    const destroy = jest.spyOn(kept, 'destroy');
    await expect(kept.send(new ListBucketsCommand({}))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(sts.cache.clientStats()).toMatchObject({ destroyed: 1, draining: 0 });
  });

  it('module destroy closes the sockets of every pooled client (no open handle is left)', async () => {
    const sts = createService();
    for (const index of [1, 2, 3]) await sts.clientFor(S3Client, { roleArn: tenantRole(index) }, config()).send(new ListBucketsCommand({}));
    const destroyed = destroyedS3Clients();
    sts.onModuleDestroy();
    expect(destroyed).toHaveLength(3);
  });

  const selectRecords = () =>
    new SelectObjectContentCommand({
      Bucket: 'bucket',
      Key: 'records',
      Expression: 'SELECT * FROM S3Object',
      ExpressionType: 'SQL',
      InputSerialization: { CSV: {} },
      OutputSerialization: { CSV: {} },
    });
  const allRecords = Array.from({ length: 10 }, (_, index) => `record-${index + 1}\n`);

  it.each<[string, (sts: StsService) => void]>([
    ['evicted', (sts) => sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN }, config())],
    ['invalidated', (sts) => sts.cache.invalidate(tenant)],
  ])(
    'an event stream (S3 SelectObjectContent) keeps its client when %s mid-stream: all ten records arrive, then the client is destroyed',
    async (_how, leave) => {
      const sts = service({ clients: { maxEntries: 1 } });
      const client = sts.clientFor(S3Client, tenant, config());
      const destroy = jest.spyOn(client, 'destroy');
      const { Payload } = await client.send(selectRecords());
      const received: string[] = [];
      let left = false;
      let destroyedMidStream = false;
      const reading = (async () => {
        for await (const event of Payload!) {
          if (event.Records?.Payload) received.push(Buffer.from(event.Records.Payload).toString());
          if (left) destroyedMidStream ||= destroy.mock.calls.length > 0;
          if (received.length === 3 && !left) {
            left = true;
            leave(sts); // out of the pool while seven records are still to come
            s3.finishSlowBodies();
          }
        }
      })();
      const failure = await reading.then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(received).toEqual(allRecords);
      expect(failure).toBeUndefined();
      expect(destroyedMidStream).toBe(false);
      expect(destroy).toHaveBeenCalledTimes(1);
      expect(sts.cache.clientStats()).toMatchObject({ draining: 0, destroyed: 1 });
      expect(assumeRoleCalls()).toBe(1);
    },
  );

  it('an event stream left early (break out of for await) releases its client: destroyed then, not before', async () => {
    const sts = service();
    const client = sts.clientFor(S3Client, tenant, config());
    const destroy = jest.spyOn(client, 'destroy');
    const { Payload } = await client.send(selectRecords());
    sts.cache.invalidate(tenant);
    expect(destroy).not.toHaveBeenCalled();
    const received: string[] = [];
    for await (const event of Payload!) {
      if (event.Records?.Payload) received.push(Buffer.from(event.Records.Payload).toString());
      if (received.length === 2) break;
    }
    expect(received).toEqual(allRecords.slice(0, 2));
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(sts.cache.clientStats()).toMatchObject({ draining: 0, destroyed: 1 });
  });

  /** Makes the client answer GetObject with a web ReadableStream body (as the SDK's fetch handler does). */
  function withWebStreamBody(client: S3Client): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const output = result.output as { Body?: { transformToWebStream(): ReadableStream } };
        if (output.Body) output.Body = sdkStreamMixin(output.Body.transformToWebStream()) as never;
        return result;
      },
      { step: 'initialize', priority: 'low', name: 'specWebStreamBody', override: true },
    );
  }

  it('a web ReadableStream body keeps its client when evicted: read whole (the SDK helpers still there), then the client is destroyed', async () => {
    const sts = service({ clients: { maxEntries: 1 } });
    const client = sts.clientFor(S3Client, tenant, config());
    withWebStreamBody(client);
    const destroy = jest.spyOn(client, 'destroy');
    const { Body } = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'slow' }));
    expect(Body).toBeInstanceOf(ReadableStream);
    sts.clientFor(S3Client, { roleArn: OTHER_ROLE_ARN }, config()); // evicts the first
    await new Promise((resolve) => setImmediate(resolve));
    expect(destroy).not.toHaveBeenCalled();
    const text = Body!.transformToString();
    s3.finishSlowBodies();
    expect(await text).toBe('first-last');
    await eventually(() => destroy.mock.calls.length > 0);
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(sts.cache.clientStats()).toMatchObject({ draining: 0 });
  });

  it('a web ReadableStream body cancelled by its reader releases its client', async () => {
    const sts = service();
    const client = sts.clientFor(S3Client, tenant, config());
    withWebStreamBody(client);
    const destroy = jest.spyOn(client, 'destroy');
    const { Body } = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'slow' }));
    sts.cache.invalidate(tenant);
    await new Promise((resolve) => setImmediate(resolve));
    expect(destroy).not.toHaveBeenCalled();
    const reader = (Body as ReadableStream<Uint8Array>).getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('first');
    await reader.cancel();
    await eventually(() => destroy.mock.calls.length > 0);
    expect(sts.cache.clientStats()).toMatchObject({ draining: 0, destroyed: 1 });
  });

  it('module destroy waits for a pooled client still serving a stream, then destroys it', async () => {
    const sts = createService();
    const client = sts.clientFor(S3Client, tenant, config());
    const destroy = jest.spyOn(client, 'destroy');
    const { Body } = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'slow' }));
    let closed = false;
    const closing = sts.onModuleDestroy().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    expect(destroy).not.toHaveBeenCalled();
    const text = Body!.transformToString();
    s3.finishSlowBodies();
    expect(await text).toBe('first-last');
    await closing;
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('keys exactly what it builds, over the wire: every request is signed for the region of the client its caller asked for', async () => {
    const sts = service();
    let reads = 0;
    const alternating = {
      ...config(),
      get region() {
        return ++reads % 2 === 1 ? 'ap-south-1' : 'sa-east-1';
      },
    };
    const plain = (region: string) => ({ ...config(), region });
    const signedRegion = async (client: S3Client) => {
      const before = s3.scopes.length;
      await client.send(new ListBucketsCommand({}));
      return s3.scopes[before].split('/')[1];
    };
    for (const given of [alternating, plain('ap-south-1'), alternating, plain('sa-east-1'), alternating, plain('ap-south-1')]) {
      const client = sts.clientFor(S3Client, tenant, given);
      const region = await signedRegion(client);
      if (given !== alternating) expect(region).toBe(given.region);
      expect(sts.clientFor(S3Client, tenant, plain(region)) === client).toBe(true); // the pooled client of the region it signs for
    }
    expect(sts.cache.clientStats()).toMatchObject({ size: 2, created: 2 });
  });

  it('tenant clients get request-handler defaults (3 s to connect, 60 s of silence: an SQS long poll fits, a timeout throws)', async () => {
    const sts = service();
    for (const client of [sts.clientFor(S3Client, tenant, config()), sts.createClient(S3Client, tenant, config())]) {
      await client.send(new ListBucketsCommand({}));
      expect((client.config.requestHandler as NodeHttpHandler).httpHandlerConfigs()).toMatchObject({
        connectionTimeout: 3_000,
        requestTimeout: 60_000,
        throwOnRequestTimeout: true,
      });
      if (client !== sts.clientFor(S3Client, tenant, config())) client.destroy();
    }
  });

  it("a request handler of the user's own is left as it is: no defaults merged into it, never destroyed by the library", async () => {
    const handler = new NodeHttpHandler({ connectionTimeout: 1_000 });
    const sts = createService();
    const client = sts.clientFor(S3Client, tenant, { ...config(), requestHandler: handler });
    expect(client.config.requestHandler).toBe(handler);
    await client.send(new ListBucketsCommand({}));
    expect(handler.httpHandlerConfigs()).toMatchObject({
      connectionTimeout: 1_000,
      requestTimeout: undefined,
      throwOnRequestTimeout: undefined,
    });
    const handlerDestroy = jest.spyOn(handler, 'destroy');
    await sts.onModuleDestroy();
    expect(handlerDestroy).not.toHaveBeenCalled();
    handler.destroy();
  });
});

describe('clientFor at shutdown, against an endpoint that accepts and never answers', () => {
  let silent: Server;
  let endpoint = '';
  let requests = 0;
  beforeAll(async () => {
    silent = createServer((request) => {
      requests++;
      request.resume(); // and never a word back
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });
  beforeEach(() => (requests = 0));

  it('app.close() finishes once operationTimeoutSeconds have passed: the hung request rejects, unretried, and its client is destroyed', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, operationTimeoutSeconds: 1 })],
    }).compile();
    const app = await moduleRef.init(); // the application context: its close() runs the shutdown an HTTP app's does
    const sts = app.get(StsService);
    const client = sts.clientFor(S3Client, tenant, { endpoint, forcePathStyle: true });
    const destroy = jest.spyOn(client, 'destroy');
    const sending = rejection<Error>(client.send(new ListBucketsCommand({})));
    await eventually(() => requests === 1);
    const started = performance.now();
    await app.close();
    const error = await sending;
    expect(performance.now() - started).toBeLessThan(15_000); // generous: the deadline is 1 s
    expect(error.name).toBe('ClientDestroyedError');
    expect(error.message).toMatch(/operationTimeoutSeconds/);
    expect(destroy).toHaveBeenCalled();
    expect(requests).toBe(1);
    expect(sts.cache.clientStats()).toMatchObject({ draining: 0, destroyed: 1 });
    expect(assumeRoleCalls()).toBe(1);
  }, 20_000);

  it("a request timeout of the user's is merged over the defaults: it throws instead of only warning and waiting on", async () => {
    const sts = service();
    const timed = { endpoint, forcePathStyle: true, maxAttempts: 1, requestHandler: { requestTimeout: 300 } };
    const fromCreateClient = sts.createClient(S3Client, tenant, timed);
    for (const client of [sts.clientFor(S3Client, tenant, timed), fromCreateClient]) {
      const error = await rejection<Error>(client.send(new ListBucketsCommand({})));
      expect(error.name).toBe('TimeoutError');
    }
    fromCreateClient.destroy();
    expect(requests).toBe(2);
  }, 20_000);
});
