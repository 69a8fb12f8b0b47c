/**
 * Soak: 200,000 `getCredentials` over 20,000 keys whose working set keeps moving, through a cache of 2,000
 * entries, against a mocked STSClient that answers at once with realistic credentials (~1 KB session token).
 *
 * Asserts that the cache stays bounded (size, and heap after a forced GC), that it evicts, that every caller gets
 * credentials STS issued for exactly its own request (role, account and ExternalId), and that closing the module
 * leaves no handle open.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { ServerAwsStsModule, StsService, type TemporaryCredentials } from '../../src';
import { BASE_CREDENTIALS } from '../support/fixtures';
import { seededRandom } from '../../src/testing/local-sts/seeded-random';

const KEYS = 20_000;
const CALLS = 200_000;
const BATCH = 1_000;
const MAX_ENTRIES = 2_000;
/** The moving part of the working set: a window of keys sliding over the whole key space during the run. */
const WINDOW = 1_200;
/** Share of calls drawn uniformly from all keys instead of from the window. */
const RANDOM_SHARE = 0.05;
const MB = 1024 * 1024;

/** Key i: one of 3 role names in one of 500 accounts, and its own ExternalId, so many keys share a role ARN. */
const accountOf = (i: number) => String(100_000_000_000 + (i % 500));
const roleArns = Array.from({ length: KEYS }, (_, i) => `arn:aws:iam::${accountOf(i)}:role/Tenant${i % 3}`);
const externalIds = Array.from({ length: KEYS }, (_, i) => `tenant-${i}-ext`);

/** A real forced GC (the jest worker runs without --expose-gc); undefined if this Node refuses. */
function forcedGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** A distinct, flat ~1 KB session token per issue (its own memory, as a real token's), cheap to make. */
const tokenBytes = Buffer.from(`IQoJb3JpZ2luX2Vj${randomBytes(768).toString('base64')}`.slice(0, 1040), 'latin1');
function sessionToken(n: number): string {
  tokenBytes.write(String(n).padStart(12, '0'), 16, 'latin1');
  return tokenBytes.toString('latin1');
}

const sts = mockClient(STSClient);

afterAll(() => {
  sts.restore();
  Logger.overrideLogger(false); // Test.compile() installs Nest's TestingLogger globally; back to quiet-logs.ts
});

it(
  'soak: 200,000 lookups over 20,000 churning keys stay within 2,000 entries and bounded memory, each caller gets its own credentials',
  async () => {
    const started = Date.now();
    // STS: each issue is numbered; `issuedTo[n]` is the key whose request (role ARN and ExternalId) got issue n.
    const issuedTo = new Int32Array(CALLS + 1).fill(-1);
    let issued = 0;
    let wrongRequests = 0;
    sts.on(AssumeRoleCommand).callsFake((input: AssumeRoleCommandInput) => {
      const key = Number(/^tenant-(\d+)-ext$/.exec(input.ExternalId ?? '')?.[1] ?? -1);
      if (!(key >= 0 && key < KEYS) || input.RoleArn !== roleArns[key]) wrongRequests++;
      const n = ++issued;
      issuedTo[n] = key;
      const [, , , , account, resource] = (input.RoleArn ?? '').split(':');
      return {
        Credentials: {
          AccessKeyId: `ASIA${String(n).padStart(16, '0')}`,
          SecretAccessKey: `secret/${n}/${'s'.repeat(32)}`.slice(0, 40),
          SessionToken: sessionToken(n), // ~1 KB, like a real one
          Expiration: new Date(Date.now() + 3600_000),
        },
        AssumedRoleUser: {
          Arn: `arn:aws:sts::${account}:assumed-role/${resource?.split('/').pop()}/${input.RoleSessionName}`,
          AssumedRoleId: `AROAEXAMPLE:${input.RoleSessionName}`,
        },
        PackedPolicySize: undefined,
      };
    });

    const countByType = () =>
      process
        .getActiveResourcesInfo()
        .reduce<Record<string, number>>((counts, type) => ({ ...counts, [type]: (counts[type] ?? 0) + 1 }), {});
    const handlesBefore = countByType();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, cache: { maxEntries: MAX_ENTRIES } }),
      ],
    }).compile();
    const service = moduleRef.get(StsService);
    let eventsSeen = 0;
    service.events$.subscribe(() => eventsSeen++);

    const gc = forcedGc();
    const heapUsed = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const random = seededRandom(42);
    const pickKey = (call: number) => {
      if (random() < RANDOM_SHARE) return Math.floor(random() * KEYS);
      const windowStart = Math.floor((call / CALLS) * (KEYS - WINDOW));
      return windowStart + Math.floor(random() * WINDOW);
    };

    let maxSize = 0;
    let sizeSamples = 0;
    let mismatches = 0;
    const mismatch: string[] = [];
    const check = (key: number, credentials: TemporaryCredentials) => {
      const n = Number(credentials.accessKeyId.slice(4));
      const account = accountOf(key);
      const ok =
        issuedTo[n] === key &&
        credentials.accountId === account &&
        credentials.assumedRoleUser?.arn.startsWith(`arn:aws:sts::${account}:assumed-role/Tenant${key % 3}/`) === true &&
        credentials.sessionToken.length > 1000;
      if (!ok) {
        mismatches++;
        if (mismatch.length < 5)
          mismatch.push(`key ${key} got ${credentials.accessKeyId} (issued to ${issuedTo[n]}, account ${credentials.accountId})`);
      }
    };
    const sampleSize = () => {
      const { size } = service.cache.stats();
      maxSize = Math.max(maxSize, size);
      sizeSamples++;
    };

    const runBatches = async (from: number, to: number) => {
      for (let call = from; call < to; call += BATCH) {
        const pending: Array<Promise<void>> = [];
        for (let j = 0; j < BATCH; j++) {
          const key = pickKey(call + j);
          pending.push(
            service.getCredentials({ roleArn: roleArns[key], externalId: externalIds[key] }).then((credentials) => check(key, credentials)),
          );
          if (j % 100 === 0) sampleSize();
        }
        await Promise.all(pending);
        sampleSize();
        sts.resetHistory(); // the mock's own call log would otherwise grow with every call
      }
    };

    const heapAtStart = heapUsed();
    await runBatches(0, CALLS / 2);
    const statsAtMiddle = service.cache.stats();
    const heapAtMiddle = heapUsed();
    await runBatches(CALLS / 2, CALLS);
    const heapAtEnd = heapUsed();
    const stats = service.cache.stats();

    // Bounded size, real churn.
    expect(sizeSamples).toBeGreaterThan(2_000);
    expect(maxSize).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(stats.size).toBe(MAX_ENTRIES);
    expect(stats.hits + stats.misses).toBe(CALLS);
    expect(stats.misses).toBeGreaterThan(20_000);
    expect(stats.hits).toBeGreaterThan(CALLS / 2);
    expect(stats.evictions).toBeGreaterThan(15_000);
    expect(stats.evictions).toBeGreaterThan(statsAtMiddle.evictions);
    expect(stats).toMatchObject({ refreshFailures: 0, staleServed: 0, inflight: 0 });
    expect(eventsSeen).toBeGreaterThan(0);
    // STS saw only well-formed requests, one per miss that did not join a fetch in flight.
    expect(wrongRequests).toBe(0);
    expect(issued).toBeLessThanOrEqual(stats.misses);
    expect(issued).toBe(stats.size + stats.evictions);
    // Every caller got credentials issued for its own role ARN and ExternalId (never another tenant's).
    expect(mismatch).toEqual([]);
    expect(mismatches).toBe(0);

    // Bounded memory: the second half (10,000 more distinct issues) retains next to nothing. Retaining every
    // credential set would take well over 1 KB each (token alone), i.e. > 20 MB for the second half's issues.
    const issuedInSecondHalf = stats.evictions - statsAtMiddle.evictions;
    expect(issuedInSecondHalf).toBeGreaterThan(10_000);
    const growth = heapAtEnd - heapAtMiddle;
    const perEntryFloor = 1024; // bytes a retained credential set needs at the very least
    const limit = gc ? 5 * MB : 16 * MB; // without a forced GC, garbage blurs the figure: a wider margin
    expect(limit).toBeLessThan((issuedInSecondHalf * perEntryFloor) / (gc ? 2 : 1));
    expect(growth).toBeLessThan(limit);
    expect(heapAtMiddle - heapAtStart).toBeLessThan(MAX_ENTRIES * 16 * 1024 + 16 * MB);

    // Closing the module clears the cache and leaves no handle behind.
    await moduleRef.close();
    expect(service.cache.stats().size).toBe(0);
    const opened = () => {
      const handlesAfter = countByType();
      return Object.keys(handlesAfter).filter((type) => handlesAfter[type] > (handlesBefore[type] ?? 0));
    };
    // A resource the test runner itself opens in passing (a file write, an IPC message) may show for a moment.
    for (let waited = 0; opened().length > 0 && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(opened()).toEqual([]);
    if (process.env.SOAK_REPORT) {
      // eslint-disable-next-line no-console
      console.log({
        seconds: (Date.now() - started) / 1000,
        stats,
        issued,
        gc: Boolean(gc),
        heapMB: [heapAtStart, heapAtMiddle, heapAtEnd].map((h) => Math.round(h / MB)),
      });
    }
  },
  // Generous: the soak counts entries, calls and bytes, never time; a busy 2-core machine may take minutes.
  180_000,
);
