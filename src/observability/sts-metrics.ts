import type { Attributes, BatchObservableCallback, Counter, Histogram, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import type { CredentialCacheStats } from '../cache/credential-cache-stats.js';
import type { SharedWaitResult } from '../cache/shared/shared-tier.js';
import type { StsEvent } from './sts-events.js';
import { PACKAGE_VERSION } from './version.js';

/** The OpenTelemetry meter's name. */
export const METER_NAME = 'nestjs-aws-sts';

/** What the metrics read from one service's cache when a reader collects. */
export interface MetricsSource {
  stats(): CredentialCacheStats;
  /** Credential sets not yet expired, and seconds until the soonest of them expires (STS's clock). */
  unexpired(): { entries: number; secondsToSoonestExpiry?: number };
}

/** From a fast answer to the longest operation timeout (the SDK's default buckets are for milliseconds). */
const CALL_DURATION_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

// Attribute sets are built once: recording never allocates one.
const LOOKUP_HIT = Object.freeze({ result: 'hit' });
const LOOKUP_MISS = Object.freeze({ result: 'miss' });
const LOOKUP_STALE = Object.freeze({ result: 'stale' });

const WAIT_RESULTS: Record<SharedWaitResult, Attributes> = {
  adopted: Object.freeze({ result: 'adopted' }),
  fetched: Object.freeze({ result: 'fetched' }),
  failed: Object.freeze({ result: 'failed' }),
};

/** The counts the asynchronous counters report, as one service's stats give them. */
interface Counts {
  lookups: { hits: number; misses: number; stale: number };
  /** With `cache.shared` only: without it the shared tier's instruments report nothing. */
  shared?: {
    adoptions: number;
    fills: number;
    bypasses: number;
    outages: number;
    invalidationsQueued: number;
    invalidationsPropagated: number;
  };
}

function countsOf(stats: CredentialCacheStats): Counts {
  const lookups = { hits: stats.hits - stats.staleServed, misses: stats.misses, stale: stats.staleServed };
  const shared = stats.shared;
  if (shared === undefined) return { lookups };
  const { fills, outages, invalidationsQueued, invalidationsPropagated } = shared;
  return {
    lookups,
    shared: { adoptions: shared.hits, fills, bypasses: shared.bypassed, outages, invalidationsQueued, invalidationsPropagated },
  };
}

/** Adds `from` into `into`, field by field (a shared part only `from` has is copied). */
function addCounts(into: Counts, from: Counts): void {
  for (const [name, value] of Object.entries(from.lookups) as Array<[keyof Counts['lookups'], number]>) into.lookups[name] += value;
  if (from.shared === undefined) return;
  if (into.shared === undefined) into.shared = { ...from.shared };
  else
    for (const [name, value] of Object.entries(from.shared) as Array<[keyof NonNullable<Counts['shared']>, number]>)
      into.shared[name] += value;
}

/**
 * The instruments of one `MeterProvider`, shared by every service that records to it (two module configurations):
 * one callback sums their caches, so their observations never overwrite each other, and the counts of a closed
 * service are kept so no counter ever goes down.
 */
class ProviderInstruments {
  readonly calls: Counter;
  readonly callDuration: Histogram;
  readonly refreshes: Counter;
  readonly evictions: Counter;
  readonly sharedWaitDuration: Histogram;
  readonly sources = new Set<MetricsSource>();
  private readonly closedCounts: Counts = { lookups: { hits: 0, misses: 0, stale: 0 } };

  constructor(meter: Meter) {
    this.calls = meter.createCounter('aws.sts.calls', { unit: '{call}', description: 'STS API calls, by operation and outcome' });
    this.callDuration = meter.createHistogram('aws.sts.call.duration', {
      unit: 's',
      description: 'Duration of STS API calls, SDK retries included',
      advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS_SECONDS },
    });
    this.refreshes = meter.createCounter('aws.sts.cache.refreshes', {
      unit: '{refresh}',
      description: 'Credential fetches for the cache, by outcome and whether callers waited',
    });
    this.evictions = meter.createCounter('aws.sts.cache.evictions', { unit: '{entry}', description: 'Cache entries dropped, by reason' });
    const lookups = meter.createObservableCounter('aws.sts.cache.lookups', {
      unit: '{lookup}',
      description: 'Cache lookups: hit, miss, or stale (served while refreshes fail)',
    });
    const entries = meter.createObservableGauge('aws.sts.cache.entries', {
      unit: '{entry}',
      description: 'Credential sets cached and not yet expired',
    });
    const inflight = meter.createObservableGauge('aws.sts.cache.inflight', {
      unit: '{fetch}',
      description: 'STS fetches running for the cache',
    });
    const expiry = meter.createObservableGauge('aws.sts.credentials.expiry', {
      unit: 's',
      description: 'Seconds until the soonest cached credentials expire',
    });
    this.sharedWaitDuration = meter.createHistogram('aws.sts.shared.wait.duration', {
      unit: 's',
      description: "Shared tier: from a load finding another instance's lock to its answer, by result",
      advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS_SECONDS },
    });
    const shared = {
      adoptions: meter.createObservableCounter('aws.sts.shared.adoptions', {
        unit: '{credential}',
        description: 'Shared tier: local misses and refreshes answered from Redis, with no STS call',
      }),
      fills: meter.createObservableCounter('aws.sts.shared.fills', {
        unit: '{fetch}',
        description: 'Shared tier: fetches this instance made for the fleet, holding the lock',
      }),
      bypasses: meter.createObservableCounter('aws.sts.shared.bypasses', {
        unit: '{fetch}',
        description: 'Shared tier: fetches made without it (Redis failing or backing off, a holder too slow)',
      }),
      outages: meter.createObservableCounter('aws.sts.shared.outages', {
        unit: '{outage}',
        description: 'Shared tier: Redis outages (from a failed command to one that succeeds)',
      }),
      invalidationsQueued: meter.createObservableCounter('aws.sts.shared.invalidations.queued', {
        unit: '{invalidation}',
        description: 'Shared tier: invalidations this instance set out to tell the fleet',
      }),
      invalidationsPropagated: meter.createObservableCounter('aws.sts.shared.invalidations.propagated', {
        unit: '{invalidation}',
        description: 'Shared tier: invalidations Redis carried out (value deleted, fleet told)',
      }),
    };
    const collect: BatchObservableCallback = (result) => {
      const counts: Counts = {
        lookups: { ...this.closedCounts.lookups },
        shared: this.closedCounts.shared && { ...this.closedCounts.shared },
      };
      let entryCount = 0;
      let inflightCount = 0;
      let soonest: number | undefined;
      for (const source of this.sources) {
        const stats = source.stats();
        addCounts(counts, countsOf(stats));
        inflightCount += stats.inflight;
        const { entries: unexpired, secondsToSoonestExpiry } = source.unexpired();
        entryCount += unexpired;
        if (secondsToSoonestExpiry !== undefined && (soonest === undefined || secondsToSoonestExpiry < soonest))
          soonest = secondsToSoonestExpiry;
      }
      result.observe(lookups, counts.lookups.hits, LOOKUP_HIT);
      result.observe(lookups, counts.lookups.misses, LOOKUP_MISS);
      result.observe(lookups, counts.lookups.stale, LOOKUP_STALE);
      result.observe(entries, entryCount);
      result.observe(inflight, inflightCount);
      if (soonest !== undefined) result.observe(expiry, soonest);
      if (counts.shared)
        for (const [name, value] of Object.entries(counts.shared) as Array<[keyof typeof shared, number]>)
          result.observe(shared[name], value);
    };
    meter.addBatchObservableCallback(collect, [lookups, entries, inflight, expiry, ...Object.values(shared)] as Observable[]);
  }

  /** Stops reading a service's cache, keeping its counts in the sum. */
  remove(source: MetricsSource): void {
    if (this.sources.delete(source)) addCounts(this.closedCounts, countsOf(source.stats()));
  }
}

const instrumentsByProvider = new WeakMap<MeterProvider, ProviderInstruments>();

/**
 * One service's OpenTelemetry metrics (see the table in docs/metrics-and-health.md). STS calls, refreshes and evictions are recorded from
 * the service's events, off the hot path. Lookups, entries, in-flight fetches, the soonest expiry and the shared
 * tier's counts are read from the cache's own counts when a reader collects, so a cache hit records nothing and
 * costs nothing; a wait on another instance's fetch (a local miss) is recorded when it ends.
 * No attribute carries a role, an account, a session name or a secret.
 */
export class StsMetrics {
  readonly #instruments: ProviderInstruments;
  readonly #source: MetricsSource;

  constructor(meterProvider: MeterProvider, source: MetricsSource) {
    let instruments = instrumentsByProvider.get(meterProvider);
    if (instruments === undefined) {
      instruments = new ProviderInstruments(meterProvider.getMeter(METER_NAME, PACKAGE_VERSION));
      instrumentsByProvider.set(meterProvider, instruments);
    }
    instruments.sources.add(source);
    this.#instruments = instruments;
    this.#source = source;
  }

  /** Records what an event says about STS calls, refreshes and evictions. */
  record(event: StsEvent): void {
    const instruments = this.#instruments;
    switch (event.type) {
      case 'sts-call': {
        const { operation, outcome, errorCode } = event;
        instruments.callDuration.record(event.durationMs / 1000, { operation, outcome });
        instruments.calls.add(1, errorCode === undefined ? { operation, outcome } : { operation, outcome, 'error.type': errorCode });
        return;
      }
      case 'refresh-succeeded':
      case 'refresh-failed':
        instruments.refreshes.add(1, {
          outcome: event.type === 'refresh-succeeded' ? 'success' : 'error',
          background: event.background === true,
        });
        return;
      case 'eviction':
        instruments.evictions.add(1, { reason: event.reason ?? 'expired' });
        return;
      case 'invalidation':
        instruments.evictions.add(1, { reason: 'invalidated' });
        return;
    }
  }

  /** Records how long a load waited on another instance's fetch for its answer (shared tier, never on a cache hit). */
  recordSharedWait(ms: number, result: SharedWaitResult): void {
    this.#instruments.sharedWaitDuration.record(ms / 1000, WAIT_RESULTS[result]);
  }

  /** Stops reading this service's cache (module destroy); its counts stay in the sums. */
  close(): void {
    this.#instruments.remove(this.#source);
  }
}
