import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { visibleText } from '../../support/visible-text';
import { ServerAwsStsConfig } from '../../../src';
import type { SharedCacheOptions } from '../../../src/config/cache-options';
import { resolveStsConfig } from '../../../src/config/server-aws-sts.config';
import { CredentialEnvelope, defaultKeyId } from '../../../src/cache/shared/credential-envelope';
import { SHARING_SCOPE, sharingScope } from '../../../src/cache/shared/sharing-scope';
import type { SharedRedisClient } from '../../../src/cache/shared/ioredis-store';
import { NodeRedisStore } from '../../../src/cache/shared/node-redis-store';
import { redisStoreFor, SUPPORTED_REDIS_CLIENTS } from '../../../src/cache/shared/redis-store-for';
import { createClient, createCluster, createSentinel } from 'redis';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis6';
import { TemporaryCredentials } from '../../../src/sts/temporary-credentials';

describe('ServerAwsStsConfig', () => {
  it('fromEnv reads the documented variables and leaves empty ones unset', () => {
    const config = ServerAwsStsConfig.fromEnv({
      AWS_REGION: 'eu-central-1',
      AWS_PROFILE: 'tenant-admin',
      STS_SESSION_DURATION: '1800',
      STS_MAX_SESSION_DURATION: '7200',
      STS_EXTERNAL_ID: '',
    });
    expect(config).toBeInstanceOf(ServerAwsStsConfig);
    expect(config).toMatchObject({
      AWS_REGION: 'eu-central-1',
      AWS_PROFILE: 'tenant-admin',
      DEFAULT_SESSION_DURATION: 1800,
      MAX_SESSION_DURATION: 7200,
      EXTERNAL_ID: undefined,
    });
  });

  it('a non-numeric duration from the environment fails resolution, naming the variable it maps to', () => {
    expect(() => resolveStsConfig(ServerAwsStsConfig.fromEnv({ STS_SESSION_DURATION: 'one hour' }))).toThrow(
      /DEFAULT_SESSION_DURATION must be an integer/,
    );
  });

  it('applies the documented defaults', () => {
    const resolved = resolveStsConfig({});
    expect(resolved).toMatchObject({
      defaultSessionDuration: 3600,
      maxSessionDuration: 43200,
      requireExternalId: false,
      sessionNamePrefix: 'nestjs-aws-sts',
      clientConfig: { requestHandler: { connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true } },
      cache: { maxEntries: 10_000, mandatoryWindowSeconds: 60, refreshWindowSeconds: undefined },
      operationTimeoutMs: 30_000,
    });
    expect(typeof resolved.credentials).toBe('function');
  });

  it('uses a profile provider when AWS_PROFILE is set, and asks a given provider at each resolution', async () => {
    expect(typeof resolveStsConfig({ AWS_PROFILE: 'dev' }).credentials).toBe('function');
    const identity = { accessKeyId: 'A', secretAccessKey: 'B' };
    const provider = jest.fn(async () => identity);
    const resolved = resolveStsConfig({ credentials: provider });
    await expect(resolved.credentials()).resolves.toBe(identity);
    await expect(resolved.credentials()).resolves.toBe(identity);
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('wraps static credentials in a provider that resolves to them', async () => {
    const keys = { accessKeyId: 'AKIASTATIC', secretAccessKey: 'static-secret' };
    const resolved = resolveStsConfig({ credentials: keys });
    expect(typeof resolved.credentials).toBe('function');
    await expect(resolved.credentials()).resolves.toBe(keys);
  });

  it('merges user request handler options over the defaults: other timeouts stay, and a request timeout throws', () => {
    const resolved = resolveStsConfig({ clientConfig: { maxAttempts: 5, requestHandler: { requestTimeout: 500 } } });
    expect(resolved.clientConfig).toEqual({
      maxAttempts: 5,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 500, throwOnRequestTimeout: true },
    });
    expect(resolved.ownsRequestHandler).toBe(true);
  });

  it('keeps a handler instance or an agent the user passes as theirs (never destroyed by the library)', () => {
    const httpsAgent = new HttpsAgent();
    const withAgent = resolveStsConfig({ clientConfig: { requestHandler: { httpsAgent } } });
    expect(withAgent.clientConfig.requestHandler).toEqual({
      connectionTimeout: 3000,
      requestTimeout: 10000,
      throwOnRequestTimeout: true,
      httpsAgent,
    });
    expect(withAgent.ownsRequestHandler).toBe(false);
    // A proxy agent (agent-base) extends http.Agent and is passed as httpsAgent: still the user's.
    const proxyAgent = new HttpAgent();
    expect(resolveStsConfig({ clientConfig: { requestHandler: { httpsAgent: proxyAgent as never } } }).ownsRequestHandler).toBe(false);
    proxyAgent.destroy();
    expect(resolveStsConfig({ clientConfig: { requestHandler: { httpsAgent: { keepAlive: true } as never } } }).ownsRequestHandler).toBe(
      true,
    );
    const handler = new NodeHttpHandler({ requestTimeout: 400 });
    const withHandler = resolveStsConfig({ clientConfig: { requestHandler: handler } });
    expect(withHandler.clientConfig.requestHandler).toBe(handler);
    expect(withHandler.ownsRequestHandler).toBe(false);
    httpsAgent.destroy();
  });

  it('refuses an operation timeout outside 1–300 s and a maxEntries over 1,000,000', () => {
    expect(() => resolveStsConfig({ operationTimeoutSeconds: 0 })).toThrow(/operationTimeoutSeconds must be an integer between 1 and 300/);
    expect(resolveStsConfig({}).maxConcurrentStsCalls).toBe(16);
    for (const bad of [0, 1_001, 2.5, '8']) {
      expect(() => resolveStsConfig({ maxConcurrentStsCalls: bad as number })).toThrow(
        /maxConcurrentStsCalls must be an integer between 1 and 1000/,
      );
    }
    expect(() => resolveStsConfig({ cache: { maxEntries: 10_000_000 } })).toThrow(
      /cache.maxEntries must be an integer between 1 and 1000000/,
    );
  });

  it('never shows EXTERNAL_ID to inspect or JSON', () => {
    const resolved = resolveStsConfig({ EXTERNAL_ID: 'partner-external-id-7' });
    expect(resolved.defaultExternalId()).toBe('partner-external-id-7');
    expect(visibleText(resolved)).not.toContain('partner-external-id-7');
  });

  it.each([
    [{ sessionNamePrefix: 'has space' }, 'sessionNamePrefix'],
    [{ cache: { maxEntries: 0 } }, 'cache.maxEntries'],
    [{ cache: { mandatoryWindowSeconds: 601 } }, 'cache.mandatoryWindowSeconds'],
    [{ cache: { refreshWindowSeconds: -1 } }, 'cache.refreshWindowSeconds'],
    [{ credentials: { accessKeyId: 'only-the-id' } }, 'credentials'],
    [{ DEFAULT_SESSION_DURATION: 7200, MAX_SESSION_DURATION: 3600 }, 'DEFAULT_SESSION_DURATION'],
  ])('rejects %j, naming %s', (config, field) => {
    expect(() => resolveStsConfig(config as ServerAwsStsConfig)).toThrow(
      new RegExp(`Invalid ServerAwsStsConfig: .*${field.replace('.', '\\.')} must`),
    );
  });

  it('accepts cache: false', () => {
    expect(resolveStsConfig({ cache: false }).cache).toBe(false);
  });
});

/** What a user's ioredis client looks like to the validation: the six commands, none called. */
function redisClient(): SharedRedisClient {
  const unused = () => {
    throw new Error('not called by resolveStsConfig');
  };
  return { get: unused, set: unused, del: unused, eval: unused, publish: unused, duplicate: unused };
}

/** Every text form of key bytes a user could recognise: base64, base64url, hex, and Buffer's inspect spelling. */
function keyTexts(bytes: Buffer): string[] {
  const spacedHex = [...bytes.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
  return [
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    spacedHex,
    bytes.toString('base64').slice(0, 24),
    bytes.toString('hex').slice(0, 24),
    JSON.stringify([...bytes.subarray(0, 16)]).slice(1, -1),
  ];
}

/** The error `resolveStsConfig` throws for `shared`, as every text a user could print. */
function refusalOf(shared: Partial<SharedCacheOptions> | null): { message: string; shown: string } {
  try {
    resolveStsConfig({ cache: { shared: shared as SharedCacheOptions } });
  } catch (error) {
    return { message: (error as Error).message, shown: visibleText(error) };
  }
  throw new Error('resolveStsConfig accepted the config');
}

/** Recognisable key bytes, `length` long: "PLANTEDKEY" repeated. */
const plantedKey = (length: number) => Buffer.from('PLANTEDKEY'.repeat(4).slice(0, length));

describe('cache.shared', () => {
  const key = randomBytes(32);
  const shared = (overrides: Partial<SharedCacheOptions> = {}): SharedCacheOptions => ({
    redis: redisClient(),
    encryptionKey: key.toString('base64'),
    ...overrides,
  });
  const sharedSettings = (options: SharedCacheOptions) => {
    const { cache } = resolveStsConfig({ cache: { shared: options } });
    if (cache === false || cache.shared === undefined) throw new Error('no shared settings');
    return cache.shared;
  };
  /** Whether two key lists are the same keys: each opens what the other sealed, at the same addresses. */
  const sameKeys = (a: ConstructorParameters<typeof CredentialEnvelope>[0], b: ConstructorParameters<typeof CredentialEnvelope>[0]) => {
    const sealer = new CredentialEnvelope(a, 'p:');
    const opener = new CredentialEnvelope(b, 'p:');
    const addresses = sealer.addresses('principal', 'canonical');
    expect(opener.addresses('principal', 'canonical')).toEqual(addresses);
    const credentials = new TemporaryCredentials({
      accessKeyId: 'ASIASAME',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: new Date(2_000_000_000_000),
    });
    return opener.open(addresses[0], sealer.seal(addresses[0], credentials))?.accessKeyId === 'ASIASAME';
  };

  it('resolves a base64 key with its defaults, and a key id derived from the key', () => {
    const settings = sharedSettings(shared());
    expect(settings).toMatchObject({ keyPrefix: 'nestjs-aws-sts:', commandTimeoutMs: 200 });
    expect(settings.encryptionKeys().map(({ id }) => id)).toEqual([defaultKeyId(key)]);
    expect(sameKeys(settings.encryptionKeys(), [{ id: defaultKeyId(key), key }])).toBe(true);
  });

  it('a Buffer key and its base64 text resolve to the same key and id (replicas configured either way share entries)', () => {
    const fromBuffer = sharedSettings(shared({ encryptionKey: Buffer.from(key) }));
    const fromText = sharedSettings(shared());
    expect(fromBuffer.encryptionKeys().map(({ id }) => id)).toEqual(fromText.encryptionKeys().map(({ id }) => id));
    expect(sameKeys(fromBuffer.encryptionKeys(), fromText.encryptionKeys())).toBe(true);
    expect(sharedSettings(shared({ encryptionKey: randomBytes(32) })).encryptionKeys()[0].id).not.toBe(fromText.encryptionKeys()[0].id);
  });

  it('a key Buffer the app changes afterwards does not change the configured key', () => {
    const buffer = Buffer.from(key);
    const settings = sharedSettings(shared({ encryptionKey: buffer }));
    buffer.fill(0);
    expect(sameKeys(settings.encryptionKeys(), [{ id: defaultKeyId(key), key }])).toBe(true);
  });

  it('resolves a rotation list in order, ids as given, base64 and Buffer keys mixed', () => {
    const old = randomBytes(32);
    const settings = sharedSettings(
      shared({
        encryptionKey: [
          { id: 'k-2026-02', key: key.toString('base64') },
          { id: 'k_2026-01', key: old },
        ],
        keyPrefix: 'app:sts:',
        commandTimeoutMs: 10,
      }),
    );
    expect(settings).toMatchObject({ keyPrefix: 'app:sts:', commandTimeoutMs: 10 });
    expect(settings.encryptionKeys().map(({ id }) => id)).toEqual(['k-2026-02', 'k_2026-01']);
    expect(
      sameKeys(settings.encryptionKeys(), [
        { id: 'k-2026-02', key },
        { id: 'k_2026-01', key: old },
      ]),
    ).toBe(true);
  });

  it.each([
    ['a plain object', {}],
    ['null', null],
    ['a string', 'redis://localhost:6379'],
    [
      'a client without duplicate',
      (() => {
        const { duplicate: _d, ...rest } = redisClient();
        return rest;
      })(),
    ],
    ['a client whose eval is not a function', { ...redisClient(), eval: 'EVAL' }],
  ])('refuses redis as %s, naming cache.shared.redis', (_name, redis) => {
    expect(refusalOf(shared({ redis: redis as never })).message).toMatch(
      /^Invalid ServerAwsStsConfig: .*cache\.shared\.redis must be an ioredis or iovalkey client/,
    );
  });

  it.each<[string, unknown, string]>([
    ['a string', 'redis://:planted-redis-password@localhost:6379', 'got a string'],
    ['null', null, 'got null'],
    [
      'an object with two of the methods',
      { get: () => undefined, set: () => undefined, options: { password: 'planted-redis-password' } },
      'got an object with methods get, set',
    ],
    [
      'a class instance',
      new (class RedisLookalike {
        get(): void {}
      })(),
      'got a RedisLookalike with methods get',
    ],
    // node-redis v4: ioredis's method names and node-redis's shape, but no destroy() (v5): not to be taken for ioredis.
    [
      'node-redis v4',
      { ...redisClient(), isOpen: true, sendCommand: () => undefined, disconnect: () => undefined },
      'got a node-redis client older than v5',
    ],
  ])('names what was given as redis (%s), never its values', (_name, redis, given) => {
    const { message, shown } = refusalOf(shared({ redis: redis as never }));
    expect(message).toContain(`cache.shared.redis must be ${SUPPORTED_REDIS_CLIENTS} (${given})`);
    expect(shown).not.toContain('planted-redis-password');
  });

  it('refuses a node-redis Sentinel client, naming it without its password', () => {
    const sentinel = createSentinel({
      name: 'main',
      sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }],
      nodeClientOptions: { password: 'planted-redis-password' },
    });
    const { message, shown } = refusalOf(shared({ redis: sentinel as never }));
    expect(message).toContain(
      `cache.shared.redis must be ${SUPPORTED_REDIS_CLIENTS} (got a node-redis Sentinel client, which the tier does not support`,
    );
    expect(shown).not.toContain('planted-redis-password');
  });

  it.each([
    ['v5 client', () => createClient({ password: 'p' })],
    ['v6 client', () => createClient6({ password: 'p' })],
    ['v5 cluster', () => createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })],
    ['v6 cluster', () => createCluster6({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })],
  ])('takes a node-redis %s, and talks to it as node-redis (not as ioredis, whose method names it shares)', (_name, create) => {
    const client = create();
    expect(() => resolveStsConfig({ cache: { shared: { redis: client, encryptionKey: key } } })).not.toThrow();
    expect(redisStoreFor(client)).toBeInstanceOf(NodeRedisStore);
  });

  it('refuses a missing redis and key, and shared: null, naming both fields', () => {
    for (const options of [{}, null]) {
      const { message } = refusalOf(options as never);
      expect(message).toContain('cache.shared.redis must');
      expect(message).toContain('cache.shared.encryptionKey must');
    }
  });

  it.each([
    ['31 bytes as base64', plantedKey(31).toString('base64')],
    ['33 bytes as base64', plantedKey(33).toString('base64')],
    ['32 bytes as base64url', Buffer.concat([plantedKey(30), Buffer.from([0xfb, 0xff])]).toString('base64url')],
    ['32 bytes as base64 without padding', plantedKey(32).toString('base64').replace(/=+$/, '')],
    ['32 bytes as base64 with a newline (a file read as is)', `${plantedKey(32).toString('base64')}\n`],
    ['32 bytes as hex', plantedKey(32).toString('hex')],
    ['the 32 bytes as text', plantedKey(32).toString('latin1')],
    ['a 31-byte Buffer', plantedKey(31)],
    ['a 33-byte Buffer', plantedKey(33)],
    ['an empty Buffer', Buffer.alloc(0)],
    ['a number', 32],
    ['an object with the key', { key: plantedKey(32).toString('base64') }],
  ])('refuses encryptionKey as %s, naming the field and showing nothing of the key', (_name, encryptionKey) => {
    const { message, shown } = refusalOf(shared({ encryptionKey: encryptionKey as never }));
    expect(message).toMatch(/cache\.shared\.encryptionKey must be 32 bytes/);
    for (const text of [...keyTexts(plantedKey(33)), ...keyTexts(plantedKey(32)), ...keyTexts(plantedKey(31)), 'PLANTEDKEY', 'PLANTED'])
      expect(shown).not.toContain(text);
    if (typeof encryptionKey === 'string') expect(shown).not.toContain(encryptionKey.trim());
  });

  it.each([
    ['an empty list', [], 'cache.shared.encryptionKey must name at least one key'],
    [
      'a duplicate id',
      [
        { id: 'k', key },
        { id: 'k', key: randomBytes(32) },
      ],
      'cache.shared.encryptionKey must not name one id twice',
    ],
    ['an id with a space', [{ id: 'key 1', key }], 'cache.shared.encryptionKey[0].id must'],
    [
      'an id with a colon',
      [
        { id: 'ok', key },
        { id: 'key:1', key: randomBytes(32) },
      ],
      'cache.shared.encryptionKey[1].id must',
    ],
    ['an empty id', [{ id: '', key }], 'cache.shared.encryptionKey[0].id must'],
    ['an id of 65 characters', [{ id: 'k'.repeat(65), key }], 'cache.shared.encryptionKey[0].id must'],
    ['an id with a newline', [{ id: 'k\n', key }], 'cache.shared.encryptionKey[0].id must'],
    ['a null entry', [null], 'cache.shared.encryptionKey[0].id must'],
    ['a string entry', [key.toString('base64')], 'cache.shared.encryptionKey[0].id must'],
    ['a Buffer entry', [key], 'cache.shared.encryptionKey[0].'],
    [
      'a wrong-length base64 key in the list',
      [
        { id: 'new', key },
        { id: 'old', key: plantedKey(31).toString('base64') },
      ],
      'cache.shared.encryptionKey[1].key must be 32 bytes',
    ],
    ['a wrong-length Buffer in the list', [{ id: 'new', key: plantedKey(33) }], 'cache.shared.encryptionKey[0].key must be 32 bytes'],
    ['a missing key', [{ id: 'k' }], 'cache.shared.encryptionKey[0].key must be 32 bytes'],
  ])('refuses a rotation list with %s, naming the entry and showing no key', (_name, encryptionKey, problem) => {
    const { message, shown } = refusalOf(shared({ encryptionKey: encryptionKey as never }));
    expect(message).toContain(problem);
    for (const text of [...keyTexts(key), ...keyTexts(plantedKey(31)), ...keyTexts(plantedKey(33)), 'PLANTED'])
      expect(shown).not.toContain(text);
  });

  it.each([
    ['with a space', 'my app:'],
    ['empty', ''],
    ['of 101 characters', 'p'.repeat(101)],
    ['with a newline', 'app:\n'],
    ['with a non-ASCII character', 'appé:'],
    ['a number', 7],
  ])('refuses keyPrefix %s, naming cache.shared.keyPrefix', (_name, keyPrefix) => {
    expect(refusalOf(shared({ keyPrefix: keyPrefix as never })).message).toMatch(
      /cache\.shared\.keyPrefix must be 1-100 printable characters without spaces/,
    );
  });

  it('accepts keyPrefix of 1 and of 100 printable characters', () => {
    expect(sharedSettings(shared({ keyPrefix: ':' })).keyPrefix).toBe(':');
    expect(sharedSettings(shared({ keyPrefix: `${'p'.repeat(99)}:` })).keyPrefix).toHaveLength(100);
  });

  it.each([9, 5001, 0, -200, 200.5, Number.NaN, Number.POSITIVE_INFINITY, '200'])(
    'refuses commandTimeoutMs %p, naming it',
    (commandTimeoutMs) => {
      expect(refusalOf(shared({ commandTimeoutMs: commandTimeoutMs as never })).message).toMatch(
        /cache\.shared\.commandTimeoutMs must be an integer between 10 and 5000/,
      );
    },
  );

  it('accepts commandTimeoutMs at both ends, 10 and 5000', () => {
    expect(sharedSettings(shared({ commandTimeoutMs: 10 })).commandTimeoutMs).toBe(10);
    expect(sharedSettings(shared({ commandTimeoutMs: 5000 })).commandTimeoutMs).toBe(5000);
  });

  it('reports every bad shared field at once', () => {
    const { message } = refusalOf({ redis: {} as never, encryptionKey: 'short', keyPrefix: '', commandTimeoutMs: 1 });
    for (const field of ['cache.shared.redis', 'cache.shared.encryptionKey', 'cache.shared.keyPrefix', 'cache.shared.commandTimeoutMs'])
      expect(message).toContain(`${field} must`);
  });

  // A regular expression would turn any id into text first ('undefined', 'null', '1'), and values stored under the
  // text would be looked up by ===: they would never open.
  it.each([
    ['missing', undefined],
    ['null', null],
    ['a number', 1],
  ])('refuses a key id that is %s, naming cache.shared.encryptionKey[0].id', (_name, id) => {
    expect(refusalOf(shared({ encryptionKey: [{ id: id as never, key }] })).message).toContain('cache.shared.encryptionKey[0].id must');
  });

  it("refuses a key id with a dot (the stored value's separator), naming cache.shared.encryptionKey[0].id", () => {
    expect(refusalOf(shared({ encryptionKey: [{ id: 'key.2026-01', key }] })).message).toContain('cache.shared.encryptionKey[0].id must');
  });

  // Key bytes kept as Buffers would show in inspect (`<Buffer ab 12 …>`) and JSON: they live behind a function.
  it('inspect and JSON of the resolved config show nothing of the encryption key, at any depth', () => {
    for (const encryptionKey of [key.toString('base64'), Buffer.from(key), [{ id: 'new', key: Buffer.from(key) }]]) {
      const resolved = resolveStsConfig({ cache: { shared: shared({ encryptionKey }) } });
      const shown = [inspect(resolved, { depth: Infinity, showHidden: true }), JSON.stringify(resolved), visibleText(resolved)].join('\n');
      for (const text of keyTexts(key)) expect(shown).not.toContain(text);
    }
  });
});

describe('cache.keepWarm', () => {
  it('true gives the defaults: idle 3600 s, 4 at once, 10 per second', () => {
    expect(resolveStsConfig({ cache: { keepWarm: true } }).cache).toMatchObject({
      keepWarm: { idleSeconds: 3600, concurrency: 4, maxCallsPerSecond: 10 },
    });
    expect(resolveStsConfig({ cache: { keepWarm: {} } }).cache).toMatchObject({
      keepWarm: { idleSeconds: 3600, concurrency: 4, maxCallsPerSecond: 10 },
    });
  });

  it('false or unset leaves keep-warm off', () => {
    for (const config of [{ cache: { keepWarm: false } }, { cache: {} }, {}]) {
      const { cache } = resolveStsConfig(config);
      expect(cache !== false && cache.keepWarm).toBeUndefined();
    }
  });

  it('keeps given values and defaults the rest; accepts both ends of each range', () => {
    expect(resolveStsConfig({ cache: { keepWarm: { concurrency: 1 } } }).cache).toMatchObject({
      keepWarm: { idleSeconds: 3600, concurrency: 1, maxCallsPerSecond: 10 },
    });
    expect(resolveStsConfig({ cache: { keepWarm: { idleSeconds: 60, concurrency: 100, maxCallsPerSecond: 1 } } }).cache).toMatchObject({
      keepWarm: { idleSeconds: 60, concurrency: 100, maxCallsPerSecond: 1 },
    });
    expect(resolveStsConfig({ cache: { keepWarm: { idleSeconds: 43_200, maxCallsPerSecond: 1000 } } }).cache).toMatchObject({
      keepWarm: { idleSeconds: 43_200, maxCallsPerSecond: 1000 },
    });
  });

  it.each([
    [{ idleSeconds: 59 }, 'cache.keepWarm.idleSeconds must be an integer between 60 and 43200'],
    [{ idleSeconds: 43_201 }, 'cache.keepWarm.idleSeconds must be an integer between 60 and 43200'],
    [{ idleSeconds: 600.5 }, 'cache.keepWarm.idleSeconds must be an integer'],
    [{ concurrency: 0 }, 'cache.keepWarm.concurrency must be an integer between 1 and 100'],
    [{ concurrency: 101 }, 'cache.keepWarm.concurrency must be an integer between 1 and 100'],
    [{ concurrency: Number.NaN }, 'cache.keepWarm.concurrency must be an integer'],
    [{ maxCallsPerSecond: 0 }, 'cache.keepWarm.maxCallsPerSecond must be an integer between 1 and 1000'],
    [{ maxCallsPerSecond: 1001 }, 'cache.keepWarm.maxCallsPerSecond must be an integer between 1 and 1000'],
    [{ maxCallsPerSecond: '10' }, 'cache.keepWarm.maxCallsPerSecond must be an integer'],
  ])('refuses keepWarm %j', (keepWarm, problem) => {
    expect(() => resolveStsConfig({ cache: { keepWarm: keepWarm as never } })).toThrow(`Invalid ServerAwsStsConfig: ${problem}`);
  });

  it('reports every bad keepWarm field at once', () => {
    expect(() => resolveStsConfig({ cache: { keepWarm: { idleSeconds: 1, concurrency: 1000, maxCallsPerSecond: -1 } } })).toThrow(
      /cache\.keepWarm\.idleSeconds must.*; cache\.keepWarm\.concurrency must.*; cache\.keepWarm\.maxCallsPerSecond must/,
    );
  });

  // Every other bad field gives an InvalidConfiguration error naming it; keepWarm: null crashes the resolution
  // with "Cannot read properties of null (reading 'idleSeconds')".
  it('refuses keepWarm: null with an InvalidConfiguration error naming cache.keepWarm', () => {
    expect(() => resolveStsConfig({ cache: { keepWarm: null as never } })).toThrow(/Invalid ServerAwsStsConfig: .*cache\.keepWarm/);
  });

  // keepWarm: 'false' (a value read from the environment) or 0 switches keep-warm ON with the defaults, silently.
  it.each([['false'], [0], ['true']])('refuses keepWarm %p, which is neither a boolean nor an object', (keepWarm) => {
    expect(() => resolveStsConfig({ cache: { keepWarm: keepWarm as never } })).toThrow(/Invalid ServerAwsStsConfig: .*cache\.keepWarm/);
  });
});

describe("the shared tier's sharing scope", () => {
  const scope = (config: ServerAwsStsConfig) => JSON.stringify(sharingScope(resolveStsConfig(config)));

  it('decides every field of the resolved config: a new one must be placed in or out of the scope', () => {
    const resolved = resolveStsConfig({ AWS_REGION: 'eu-west-1', metrics: {}, cache: {} });
    expect(Object.keys(SHARING_SCOPE).sort()).toEqual(Object.keys(resolved).sort());
  });

  it('differs for every setting that changes what STS returns or how it is audited', () => {
    const base = scope({});
    for (const changed of [
      { sessionNamePrefix: 'audit-svc' },
      { requireExternalId: true },
      { AWS_REGION: 'eu-west-1' },
      { clientConfig: { region: 'eu-west-1' } },
      { clientConfig: { endpoint: 'https://sts.eu-west-1.amazonaws.com' } },
    ] satisfies ServerAwsStsConfig[]) {
      expect(scope(changed)).not.toBe(base);
    }
  });

  it('is the same for settings applied to each request before it is keyed, or that only change how the library runs', () => {
    const base = scope({});
    for (const same of [
      { DEFAULT_SESSION_DURATION: 900 },
      { MAX_SESSION_DURATION: 7200 },
      { EXTERNAL_ID: 'planted-default-external-id' },
      { operationTimeoutSeconds: 5 },
      { maxConcurrentStsCalls: 4 },
      { tenant: { resolve: () => undefined } },
      { clientConfig: { maxAttempts: 1 } },
      { clients: { maxEntries: 5 } },
      { cache: { maxEntries: 10 } },
      { metrics: false as const },
    ] satisfies ServerAwsStsConfig[]) {
      expect(scope(same)).toBe(base);
    }
    expect(scope({ EXTERNAL_ID: 'planted-default-external-id' })).not.toContain('planted');
  });
});
