import type { CacheLookup } from '../src/cache/cache-entry';
import { CredentialCache } from '../src/cache/credential-cache';
import { seededRandom } from '../src/testing/local-sts/seeded-random';
import { TemporaryCredentials } from '../src/sts/temporary-credentials';
import { formatBlock, longestBlock } from './invalidation';
import { heapAfterGc, printTable, STS_LIFETIME_SECONDS, stsAnswer, tenantRole, zipfSchedule } from './support';

// The fleet at the size a team plans for: 100,000 tenants (Zipf(1)) across 64 replicas behind a random load
// balancer, one shared Redis, a virtual day in one-minute steps. Each replica is the library's CredentialCache;
// Redis is a model that counts the shared tier's commands (see `FleetRedis`), because a real redis-server answering
// 64 replicas' round trips would take this bench far past minutes on a 2-core machine. `bench/fleet.ts` runs the real
// shared tier on a real Redis at 1–8 replicas and measures the commands per fetch this model charges.
const TENANTS = 100_000;
const REPLICAS = 64;
const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);
const MANDATORY_WINDOW_MS = 60_000;

/** Commands of one fetch through the shared tier, as `bench/fleet.ts` counts them on a real Redis. */
const COMMANDS_ON_REDIS_HIT = 1; // GET
const COMMANDS_ON_REDIS_MISS = 6; // GET, lock EVAL, GET again, SET, PUBLISH, release EVAL

/**
 * The shared tier's Redis as a model: what it holds per tenant, and the commands the fleet sends it per virtual
 * minute. A fetch adopts what Redis holds if it is outside the mandatory window and newer than what the replica has;
 * otherwise it takes the lock, calls STS and fills. Lock waits are not modelled: fetches here settle at once.
 */
class FleetRedis {
  stsCalls = 0;
  readonly commandsPerMinute = new Map<number, number>();
  private readonly held = new Map<number, { credentials: TemporaryCredentials; expiresAt: number }>();
  private serial = 0;

  constructor(private readonly now: () => number) {}

  fetch(tenant: number, current: TemporaryCredentials | undefined, copyStrings: boolean): TemporaryCredentials {
    const now = this.now();
    const held = this.held.get(tenant);
    const newer = held !== undefined && (current === undefined || held.expiresAt > current.expiration.getTime());
    if (held !== undefined && newer && held.expiresAt - MANDATORY_WINDOW_MS > now) {
      this.count(COMMANDS_ON_REDIS_HIT);
      return copyStrings ? copyOf(held.credentials) : held.credentials;
    }
    this.count(COMMANDS_ON_REDIS_MISS);
    this.stsCalls++;
    const { Credentials: answer } = stsAnswer(tenantRole(tenant), STS_LIFETIME_SECONDS, ++this.serial);
    const expiresAt = now + STS_LIFETIME_SECONDS * 1000;
    const credentials = new TemporaryCredentials({
      accessKeyId: answer.AccessKeyId,
      secretAccessKey: answer.SecretAccessKey,
      sessionToken: answer.SessionToken,
      expiration: new Date(expiresAt),
    });
    this.held.set(tenant, { credentials, expiresAt });
    return copyStrings ? copyOf(credentials) : credentials;
  }

  /** When STS issued these credentials: adopted ones are partway through their life, and their windows run from then. */
  issuedAt(credentials: TemporaryCredentials): number {
    return credentials.expiration.getTime() - STS_LIFETIME_SECONDS * 1000;
  }

  private count(commands: number): void {
    const minute = Math.floor((this.now() - START) / MINUTE);
    this.commandsPerMinute.set(minute, (this.commandsPerMinute.get(minute) ?? 0) + commands);
  }
}

/** Credentials with strings of their own, as a replica holds after decrypting what Redis sent (for replica 0's memory). */
const copyOf = (credentials: TemporaryCredentials) =>
  new TemporaryCredentials({
    accessKeyId: Buffer.from(credentials.accessKeyId).toString(),
    secretAccessKey: Buffer.from(credentials.secretAccessKey).toString(),
    sessionToken: Buffer.from(credentials.sessionToken!).toString(),
    expiration: new Date(credentials.expiration.getTime()),
  });

/** One replica: the library's cache, and the lookup of each tenant it has served (built on its first request). */
class Replica {
  readonly cache: CredentialCache;
  private readonly lookups = new Map<number, CacheLookup>();

  constructor(
    private readonly index: number,
    private readonly redis: FleetRedis,
    now: () => number,
  ) {
    this.cache = new CredentialCache({ maxEntries: TENANTS, mandatoryWindowSeconds: MANDATORY_WINDOW_MS / 1000 }, () => undefined, {
      now,
      random: seededRandom(index + 1),
    });
  }

  /** Drops everything the replica holds (as if the process were gone), for measuring what it held. */
  release(): void {
    this.cache.clear();
    this.lookups.clear();
  }

  get(tenant: number): Promise<TemporaryCredentials> {
    return this.cache.get(this.lookupOf(tenant));
  }

  private lookupOf(tenant: number): CacheLookup {
    let lookup = this.lookups.get(tenant);
    if (lookup === undefined) {
      const roleArn = tenantRole(tenant);
      lookup = {
        key: `${roleArn}\n${this.index}`,
        info: { roleArn, accountId: roleArn.split(':')[4] },
        refreshAhead: true,
        rememberRefusals: true,
        issuedAt: (credentials) => this.redis.issuedAt(credentials),
        load: (current) => Promise.resolve(this.redis.fetch(tenant, current, this.index === 0)),
      };
      this.lookups.set(tenant, lookup);
    }
    return lookup;
  }
}

/** The virtual day (or, with `--quick`, its first three hours) at `requestsPerMinute` across the fleet. */
export async function fleetScale(quick = process.argv.includes('--quick'), requestsPerMinute = 1_000): Promise<void> {
  const minutes = quick ? 180 : 24 * 60;
  const began = performance.now();
  let time = START;
  const now = () => time;
  const redis = new FleetRedis(now);
  const heapBefore = heapAfterGc();
  const fleet = Array.from({ length: REPLICAS }, (_, index) => new Replica(index, redis, now));
  const balancer = seededRandom(11);
  const activeTenantHours = new Set<number>();
  let requests = 0;
  /** The longest single lookup on replica 0 (ms): a hit, or a miss with its fetch through the modelled Redis. */
  let longestLookup = 0;
  const schedule = zipfSchedule(seededRandom(42), TENANTS, minutes, requestsPerMinute);
  for (let minute = 0; minute < minutes; minute++) {
    time = START + minute * MINUTE;
    const answers: Promise<TemporaryCredentials>[] = [];
    for (const tenant of schedule[minute]) {
      activeTenantHours.add(Math.floor(minute / 60) * TENANTS + tenant);
      const replica = Math.floor(balancer() * REPLICAS);
      const started = performance.now();
      answers.push(fleet[replica].get(tenant));
      if (replica === 0) longestLookup = Math.max(longestLookup, performance.now() - started);
    }
    await Promise.all(answers);
    requests += schedule[minute].length;
  }
  const heapWithFleet = heapAfterGc();
  const entries = fleet.reduce((sum, replica) => sum + replica.cache.stats().size, 0);
  const replicaZeroEntries = fleet[0].cache.stats().size;
  fleet[0].release();
  const replicaZeroBytes = heapWithFleet - heapAfterGc();
  // The blocks, on a replica as full as any: one of the others (whose credentials share strings; same entry count).
  const invalidateBlock = await longestBlock(() => fleet[1].cache.invalidateWhere((entry) => entry.accountId.endsWith('7')));
  const clearBlock = await longestBlock(() => fleet[1].cache.clear());
  const busiest = Math.max(...redis.commandsPerMinute.values());
  const row = (name: string, value: string) => [name, value];
  printTable(
    `7. Fleet at scale: ${TENANTS.toLocaleString('en-US')} tenants (Zipf(1)), ${REPLICAS} replicas, one Redis (modelled), ${minutes / 60} virtual hours, ${requestsPerMinute.toLocaleString('en-US')} requests per virtual minute`,
    ['figure', 'value'],
    [
      row('requests', requests.toLocaleString('en-US')),
      row('active tenant-hours (a tenant with a request in a clock hour)', activeTenantHours.size.toLocaleString('en-US')),
      row('STS calls', redis.stsCalls.toLocaleString('en-US')),
      row('STS calls per active tenant-hour', (redis.stsCalls / activeTenantHours.size).toFixed(2)),
      row('Redis commands per second, busiest minute', (busiest / 60).toFixed(1)),
      row('entries held, per replica (mean)', Math.round(entries / REPLICAS).toLocaleString('en-US')),
      row(
        'memory of replica 0 (heap after GC freed by dropping it; its credentials with strings of their own)',
        `${(replicaZeroBytes / 1e6).toFixed(1)} MB for ${replicaZeroEntries.toLocaleString('en-US')} entries (${Math.round(replicaZeroBytes / replicaZeroEntries).toLocaleString('en-US')} B each)`,
      ),
      row('heap of the whole simulated fleet, per replica', `${((heapWithFleet - heapBefore) / REPLICAS / 1e6).toFixed(1)} MB`),
      row('largest event-loop block: one lookup on replica 0 (hit, or miss and fetch)', `${longestLookup.toFixed(1)} ms`),
      row('largest event-loop block: invalidateWhere (one account in ten) on a full replica, CPU (wall)', formatBlock(invalidateBlock)),
      row('largest event-loop block: clear() on a full replica, CPU (wall)', formatBlock(clearBlock)),
    ],
  );
  process.stdout.write(
    [
      "Each replica is the library's CredentialCache (keep-warm off); Redis is a model counting the shared tier's commands: 1 per fetch Redis answers,",
      `${COMMANDS_ON_REDIS_MISS} per fetch that calls STS (lock waits and pub/sub deliveries not modelled). "Active tenant-hour": a tenant with at least one request in a clock hour.`,
      `${((performance.now() - began) / 1000).toFixed(1)} s real time.`,
      '',
    ].join('\n'),
  );
}
