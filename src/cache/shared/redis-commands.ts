import { Logger } from '@nestjs/common';
import type { SharedTierEvent } from '../../observability/sts-events.js';
import type { RedisStore } from './redis-store.js';
import type { RedisOutageState } from '../shared-tier-stats.js';

/** Why the shared tier is being skipped: Redis failed lately and the tier is backing off. */
export class SharedTierBackingOff extends Error {
  override readonly name = 'SharedTierBackingOff';
}

/** After a failure Redis is left alone 1 s, then 2 s, 4 s… up to this (ms). */
const MAX_BACKOFF_MS = 30_000;
/** At most one warning per this long, so a Redis that fails some commands and answers others cannot flood the log (ms). */
const WARNING_INTERVAL_MS = 60_000;

/**
 * Redis's own error code, as its reply text begins (`OOM command not allowed…`, `READONLY You can't write…`): a
 * word of capital letters only, so nothing else of the message — nor an access key id, which has digits — is taken.
 */
const REDIS_ERROR_CODE = /^([A-Z]{2,20})(?= |$)/;

/**
 * A short, non-secret name for a Redis failure: its code (`ECONNREFUSED`), the code Redis put first in its reply
 * (`OOM`, `READONLY`, `NOSCRIPT`: ioredis and iovalkey throw those as a `ReplyError` without one), or its class —
 * never its message.
 */
function failureCode(error: unknown): string {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,31}$/.test(code)) return code;
  const replyCode = name === 'ReplyError' && typeof message === 'string' ? REDIS_ERROR_CODE.exec(message)?.[1] : undefined;
  if (replyCode !== undefined) return replyCode;
  return typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : 'Error';
}

/**
 * Runs the shared tier's Redis commands, each bounded by `timeoutMs`, and keeps track of outages: after a failure
 * (an error, a timeout) every command is refused at once for a backoff, so a Redis that is down, slow or full costs
 * callers nothing but the first bounded command. An outage is logged once when it starts and once when it ends, and
 * emitted as `shared-tier` events.
 */
export class RedisCommands {
  readonly #logger = new Logger('StsSharedCache');
  #failures = 0;
  #retryAt = 0;
  /** When (performance.now) the outage under way was noticed: a command sent before it cannot end it. */
  #failedAt = -Infinity;
  #warnedAt = -Infinity;
  /** Whether the outage under way was logged (then its end is logged too). */
  #warned = false;
  readonly #outage: RedisOutageState = { outages: 0 };

  constructor(
    readonly store: RedisStore,
    private readonly timeoutMs: number,
    private readonly emit: (event: SharedTierEvent) => void,
  ) {}

  /** False while backing off after a failure: the tier should not be asked. */
  get available(): boolean {
    return this.#failures === 0 || performance.now() >= this.#retryAt;
  }

  /** Outages so far, and the one under way: when it began and its code. */
  get outage(): RedisOutageState {
    return { ...this.#outage };
  }

  /**
   * The command's answer, or a rejection when it failed, took longer than the bound, or Redis is backing off.
   * `late` sees the answer of a command that arrives after the bound (to undo a lock taken too late). A `force`d
   * command is sent even while backing off (a lock's renewal and release, an invalidation the fleet must hear): its
   * success ends the outage at once.
   */
  run<T>(
    command: (store: RedisStore) => Promise<T>,
    { late, force = false }: { late?: (answer: T) => void; force?: boolean } = {},
  ): Promise<T> {
    if (!force && !this.available) return Promise.reject(new SharedTierBackingOff('Redis failed lately; the shared tier is backing off'));
    const sentAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const answer = Promise.resolve().then(() => command(this.store));
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(Object.assign(new Error(`Redis did not answer within ${this.timeoutMs} ms`), { name: 'TimeoutError' }));
      }, this.timeoutMs);
      timer.unref();
    });
    answer.then(
      (value) => timedOut && late?.(value),
      () => undefined,
    );
    return Promise.race([answer, deadline]).then(
      (value) => {
        clearTimeout(timer);
        this.succeeded(sentAt);
        return value;
      },
      (error: unknown) => {
        clearTimeout(timer);
        this.failed(error);
        throw error;
      },
    );
  }

  /** A command's answer, or `'failed'` (logged and backed off by `run`, never thrown). */
  attempt<T>(command: (store: RedisStore) => Promise<T>, options?: { late?: (answer: T) => void; force?: boolean }): Promise<T | 'failed'> {
    return this.run(command, options).catch(() => 'failed' as const);
  }

  private succeeded(sentAt: number): void {
    // Answered, but sent before the outage was noticed: it says nothing of Redis now (a slow Redis would otherwise
    // flap between outages, an event each, with every late answer).
    if (this.#failures === 0 || sentAt < this.#failedAt) return;
    this.#failures = 0;
    delete this.#outage.outageSince;
    if (this.#warned) this.#logger.log('Redis answers again: the shared credential tier is back in use');
    this.emit({ type: 'shared-tier', state: 'available' });
  }

  private failed(error: unknown): void {
    const now = performance.now();
    if (this.#failures > 0 && now < this.#retryAt) return; // sent before the outage was noticed: already counted
    const code = failureCode(error);
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.#failures);
    this.#retryAt = now + backoff;
    this.#outage.lastErrorCode = code;
    if (this.#failures++ > 0) return; // one line and one event per outage, not per command
    this.#failedAt = now;
    this.#outage.outages++;
    this.#outage.outageSince = Date.now();
    this.emit({ type: 'shared-tier', state: 'unavailable', errorCode: code });
    this.#warned = now - this.#warnedAt >= WARNING_INTERVAL_MS;
    if (!this.#warned) return;
    this.#warnedAt = now;
    this.#logger.warn(
      `Redis failed (${code}): the shared credential tier is skipped (local cache and STS serve as without it) until Redis answers again; next try in ${backoff / 1000} s`,
    );
  }
}
