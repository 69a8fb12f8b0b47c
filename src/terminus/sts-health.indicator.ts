import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { StsValidationError, toStsError } from '../errors/sts-error.js';
import { StsService } from '../module/sts.service.js';

/** Options of `StsHealthIndicator.isHealthy`. */
export interface StsHealthCheckOptions {
  /**
   * How long an answer of STS is reused, in seconds, counted from when STS answered: an integer from 0 to 3600.
   * A failure is reused exactly as long as a success, so a failing or throttling STS is not asked harder.
   * `0` asks STS at every probe (concurrent probes still share one call). Default: 60.
   */
  maxAgeSeconds?: number;
}

/**
 * With `cache.shared`: where the shared tier's Redis stands, read from `sts.cache.stats().shared` at each probe.
 * For information only: an outage does not make the result `down`, since the app is served without the tier.
 */
export type StsHealthSharedFigures = {
  /** False from a failed Redis command until one succeeds; meanwhile the tier is skipped (local cache, then STS). */
  available: boolean;
  /** While unavailable: when the outage began (ISO 8601). */
  outageSince?: string;
  /** The code of the last Redis failure (`ECONNREFUSED`, `TimeoutError`, `OOM`, `READONLY`…), kept after recovery; absent until one. */
  lastErrorCode?: string;
  /** Invalidations this instance is still telling the fleet (their Redis commands not all answered). */
  invalidationsPending: number;
};

/** The credential cache figures every result carries, read from `sts.cache.stats()` at each probe. */
export type StsHealthCacheFigures = {
  /** Cached credential sets now held (`stats().size`). */
  entries: number;
  /** STS fetches of the credential cache running now. */
  inflight: number;
  /** Credential fetches that have failed since start, first fetches included (a counter: watch its rate). */
  refreshFailures: number;
  /** With `cache.shared` only: the shared tier's Redis. */
  shared?: StsHealthSharedFigures;
};

/** What an `up` result holds besides `status`: who the base identity is, and the cache figures. */
export type StsHealthUpDetails = StsHealthCacheFigures & {
  /** The base identity's 12-digit account id, as STS answered `GetCallerIdentity`. */
  account: string;
  /** The base identity's ARN, as STS answered `GetCallerIdentity`. */
  arn: string;
};

/** What a `down` result holds besides `status`: the `StsError` code and hint (never its message), and the cache figures. */
export type StsHealthDownDetails = StsHealthCacheFigures & {
  /** The `StsError` code: `CredentialsProviderError`, `InvalidClientTokenId`, `Throttling`, `TimeoutError`, … */
  code: string;
  /** What a person can do about it; absent when the library has no hint for the code. */
  hint?: string;
};

/** What `isHealthy(key)` resolves to: `{ [key]: { status: 'up', ... } }` or `{ [key]: { status: 'down', ... } }`. */
export type StsHealthResult<Key extends string = 'sts'> =
  HealthIndicatorResult<Key, 'up', StsHealthUpDetails> | HealthIndicatorResult<Key, 'down', StsHealthDownDetails>;

/** The most `maxAgeSeconds` may be: an hour. */
const MAX_AGE_LIMIT_SECONDS = 3600;

/** What STS answered, kept without the error itself (its message may hold what a base provider said). */
type Outcome = { ok: true; account: string; arn: string } | { ok: false; code: string; hint?: string };

/** What every probe answers once the app is shutting down. */
const SHUTTING_DOWN: Outcome = { ok: false, code: 'ShuttingDown', hint: 'The app is shutting down: STS is not asked any more.' };

/** One GetCallerIdentity call: its outcome, and when it settled (`performance.now()`, ms) once it has. */
interface Answer {
  outcome: Promise<Outcome>;
  settledAt?: number;
}

/**
 * A Terminus health indicator for STS: `up` when the base identity resolves and STS answers `GetCallerIdentity`
 * (which needs no IAM permission), `down` with the `StsError` code and hint otherwise.
 *
 * Add it to the providers of a module that imports `TerminusModule` and sees `StsService` (imports
 * `ServerAwsStsModule`, or the module is global), then call it from a `HealthCheckService` check:
 * `this.health.check([() => this.sts.isHealthy()])`.
 *
 * Each instance keeps the last answer of STS and reuses it for `maxAgeSeconds` (default 60), failures included, and
 * concurrent probes share one call: a probe every few seconds costs at most one STS call a minute. The cache figures
 * are read fresh at every probe. Never shows a secret, nor an error message (which could hold one).
 */
@Injectable()
export class StsHealthIndicator implements OnModuleDestroy {
  #answer?: Answer;
  #shuttingDown = false;

  constructor(
    /** The facade whose base identity is checked and whose cache figures are reported. */
    private readonly sts: StsService,
    /** Terminus's result builder (`TerminusModule` provides and exports it). */
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  /**
   * Checks that the base identity resolves and STS answers `GetCallerIdentity`, reusing an answer younger than
   * `maxAgeSeconds`. Resolves `up` with `account`, `arn`, `entries`, `inflight` and `refreshFailures` (and, with
   * `cache.shared`, `shared`), or `down` with `code`, `hint` and the same cache figures; never rejects for a failure
   * of STS or of the base identity. A shared tier's outage shows in `shared`, and does not make the result `down`.
   *
   * @param key The key of the result in Terminus's `info` / `error` / `details`. Default: `'sts'`.
   * @param options `maxAgeSeconds`: how long an answer (success or failure) is reused, in seconds, an integer
   *   from 0 to 3600. Default: 60.
   * @throws StsValidationError (field `maxAgeSeconds`, rejected before STS is asked) when `maxAgeSeconds` is not an
   *   integer from 0 to 3600: a programming error, so the health endpoint fails with 500 rather than reporting STS down.
   */
  isHealthy<const Key extends string = 'sts'>(key: Key = 'sts' as Key, options: StsHealthCheckOptions = {}): Promise<StsHealthResult<Key>> {
    const { maxAgeSeconds = 60 } = options;
    if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > MAX_AGE_LIMIT_SECONDS) {
      return Promise.reject(
        new StsValidationError('Configuration', 'maxAgeSeconds', `must be an integer from 0 to ${MAX_AGE_LIMIT_SECONDS} (seconds)`),
      );
    }
    const answer = this.#shuttingDown ? Promise.resolve(SHUTTING_DOWN) : this.answerWithin(maxAgeSeconds * 1000);
    return answer.then((outcome) => {
      const figures = this.cacheFigures();
      const indicator = this.healthIndicatorService.check(key);
      if (outcome.ok) return indicator.up<StsHealthUpDetails>({ account: outcome.account, arn: outcome.arn, ...figures });
      const down: StsHealthDownDetails = { code: outcome.code, ...(outcome.hint === undefined ? {} : { hint: outcome.hint }), ...figures };
      return indicator.down<StsHealthDownDetails>(down);
    });
  }

  /** The cache figures now, with the shared tier's when it is configured: counts and codes only, never a key or a tenant. */
  private cacheFigures(): StsHealthCacheFigures {
    const { size: entries, inflight, refreshFailures, shared } = this.sts.cache.stats();
    const figures: StsHealthCacheFigures = { entries, inflight, refreshFailures };
    if (shared === undefined) return figures;
    const { outageSince, lastErrorCode, invalidationsPending } = shared;
    figures.shared = {
      available: outageSince === undefined,
      ...(outageSince === undefined ? {} : { outageSince: new Date(outageSince).toISOString() }),
      ...(lastErrorCode === undefined ? {} : { lastErrorCode }),
      invalidationsPending,
    };
    return figures;
  }

  /**
   * From here on the app is shutting down (Nest destroys modules before Terminus's graceful-shutdown wait): report
   * `down` with the code `ShuttingDown`, so a readiness probe takes the pod out of rotation instead of answering from
   * an STS client about to close.
   */
  onModuleDestroy(): void {
    this.#shuttingDown = true;
  }

  /** The current answer if it is running or settled less than `maxAgeMs` ago; otherwise asks STS again. */
  private answerWithin(maxAgeMs: number): Promise<Outcome> {
    const current = this.#answer;
    if (current && (current.settledAt === undefined || performance.now() - current.settledAt < maxAgeMs)) return current.outcome;
    const answer: Answer = {
      outcome: new Promise<Outcome>((resolve) => resolve(this.askSts())).finally(() => {
        answer.settledAt = performance.now();
      }),
    };
    this.#answer = answer;
    return answer.outcome;
  }

  /** One GetCallerIdentity call, reduced to what may be shown: account and ARN, or the error's code and hint. */
  private async askSts(): Promise<Outcome> {
    try {
      const { account, arn } = await this.sts.getCallerIdentity();
      return { ok: true, account, arn };
    } catch (error) {
      const { code, hint } = toStsError(error, 'GetCallerIdentity');
      return { ok: false, code, hint };
    }
  }
}
