import type { BatchObservableCallback, Counter, Histogram, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import type { CredentialCacheStats } from './credential-cache.js';
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

type LookupCounts = { hits: number; misses: number; stale: number };
const lookupCountsOf = (stats: CredentialCacheStats): LookupCounts => ({ hits: stats.hits - stats.staleServed, misses: stats.misses, stale: stats.staleServed });

/**
 * The instruments of one `MeterProvider`, shared by every service that records to it (two module configurations):
 * one callback sums their caches, so their observations never overwrite each other, and the counts of a closed
 * service are kept so the lookup counter never goes down.
 */
class ProviderInstruments {
  readonly calls: Counter;
  readonly callDuration: Histogram;
  readonly refreshes: Counter;
  readonly evictions: Counter;
  readonly sources = new Set<MetricsSource>();
  private readonly closedLookups: LookupCounts = { hits: 0, misses: 0, stale: 0 };

  constructor(meter: Meter) {
    this.calls = meter.createCounter('aws.sts.calls', { unit: '{call}', description: 'STS API calls, by operation and outcome' });
    this.callDuration = meter.createHistogram('aws.sts.call.duration', {
      unit: 's',
      description: 'Duration of STS API calls, SDK retries included',
      advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS_SECONDS },
    });
    this.refreshes = meter.createCounter('aws.sts.cache.refreshes', { unit: '{refresh}', description: 'Credential fetches for the cache, by outcome and whether callers waited' });
    this.evictions = meter.createCounter('aws.sts.cache.evictions', { unit: '{entry}', description: 'Cache entries dropped, by reason' });
    const lookups = meter.createObservableCounter('aws.sts.cache.lookups', { unit: '{lookup}', description: 'Cache lookups: hit, miss, or stale (served while refreshes fail)' });
    const entries = meter.createObservableGauge('aws.sts.cache.entries', { unit: '{entry}', description: 'Credential sets cached and not yet expired' });
    const inflight = meter.createObservableGauge('aws.sts.cache.inflight', { unit: '{fetch}', description: 'STS fetches running for the cache' });
    const expiry = meter.createObservableGauge('aws.sts.credentials.expiry', { unit: 's', description: 'Seconds until the soonest cached credentials expire' });
    const collect: BatchObservableCallback = (result) => {
      const lookupCounts = { ...this.closedLookups };
      let entryCount = 0;
      let inflightCount = 0;
      let soonest: number | undefined;
      for (const source of this.sources) {
        const stats = source.stats();
        const counts = lookupCountsOf(stats);
        lookupCounts.hits += counts.hits;
        lookupCounts.misses += counts.misses;
        lookupCounts.stale += counts.stale;
        inflightCount += stats.inflight;
        const { entries: unexpired, secondsToSoonestExpiry } = source.unexpired();
        entryCount += unexpired;
        if (secondsToSoonestExpiry !== undefined && (soonest === undefined || secondsToSoonestExpiry < soonest)) soonest = secondsToSoonestExpiry;
      }
      result.observe(lookups, lookupCounts.hits, LOOKUP_HIT);
      result.observe(lookups, lookupCounts.misses, LOOKUP_MISS);
      result.observe(lookups, lookupCounts.stale, LOOKUP_STALE);
      result.observe(entries, entryCount);
      result.observe(inflight, inflightCount);
      if (soonest !== undefined) result.observe(expiry, soonest);
    };
    meter.addBatchObservableCallback(collect, [lookups, entries, inflight, expiry] as Observable[]);
  }

  /** Stops reading a service's cache, keeping its lookup counts in the sum. */
  remove(source: MetricsSource): void {
    if (!this.sources.delete(source)) return;
    const counts = lookupCountsOf(source.stats());
    this.closedLookups.hits += counts.hits;
    this.closedLookups.misses += counts.misses;
    this.closedLookups.stale += counts.stale;
  }
}

const instrumentsByProvider = new WeakMap<MeterProvider, ProviderInstruments>();

/**
 * One service's OpenTelemetry metrics (see the README's table). STS calls, refreshes and evictions are recorded from
 * the service's events, off the hot path. Lookups, entries, in-flight fetches and the soonest expiry are read from
 * the cache's own counts when a reader collects, so a cache hit records nothing and costs nothing.
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
        instruments.refreshes.add(1, { outcome: event.type === 'refresh-succeeded' ? 'success' : 'error', background: event.background === true });
        return;
      case 'eviction':
        instruments.evictions.add(1, { reason: event.reason ?? 'expired' });
        return;
      case 'invalidation':
        instruments.evictions.add(1, { reason: 'invalidated' });
        return;
    }
  }

  /** Stops reading this service's cache (module destroy); its lookups stay counted. */
  close(): void {
    this.#instruments.remove(this.#source);
  }
}
