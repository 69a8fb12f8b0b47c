import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { StsError, StsOperation } from '../errors/sts-error.js';

/** Repeats of one failure (operation, code, role) inside this window are counted into the next line (ms). */
const REPEAT_WINDOW_MS = 10_000;
/** At most this many failure lines per window across all failures; the rest are counted into the next line. */
const MAX_LINES_PER_WINDOW = 20;
/** Failures whose repeats are tracked at once. */
const TRACKED_FAILURES = 1_000;

/**
 * One failure as a log message: its facts as fields, for nestjs-pino and JSON loggers to index, and a readable line
 * (`msg`) for Nest's default logger, which prints what `util.inspect` shows. Holds no secret: the message of an
 * `StsError` is already scrubbed.
 */
export class StsFailureLogLine {
  readonly msg: string;
  readonly code: string;
  readonly operation: StsOperation;
  readonly retryable: boolean;
  // Declared only: a fact a failure lacks is absent, not an own key holding undefined.
  declare readonly roleArn?: string;
  declare readonly requestId?: string;
  /** Repeats of this failure within the window after its last line, not logged. */
  declare readonly repeats?: number;
  /** Other failures not logged since the previous line, because the window's line budget was spent. */
  declare readonly unlogged?: number;

  constructor(error: StsError, roleArn: string | undefined, repeats: number, unlogged: number) {
    this.code = error.code;
    this.operation = error.operation;
    this.retryable = error.retryable;
    if (roleArn !== undefined) this.roleArn = roleArn;
    if (error.requestId !== undefined) this.requestId = error.requestId;
    if (repeats > 0) this.repeats = repeats;
    if (unlogged > 0) this.unlogged = unlogged;
    this.msg = [
      error.message,
      roleArn ? ` [role ${roleArn}]` : '',
      error.requestId ? ` [request ${error.requestId}]` : '',
      repeats > 0 ? ` (${repeats} more within ${Math.round(REPEAT_WINDOW_MS / 1000)} s of the previous line)` : '',
      unlogged > 0 ? ` (${unlogged} other failures not logged)` : '',
    ].join('');
  }

  /** The readable line again, for loggers that read a `message` (nest-winston); on the prototype, so JSON omits it. */
  get message(): string {
    return this.msg;
  }

  toString(): string {
    return this.msg;
  }

  [inspect.custom](): string {
    return this.msg;
  }
}

/**
 * The failures some `FailureLog` has reported (written, or counted into a later line), so that the exception filter
 * does not log them a second time. Weak: it keeps no error alive.
 */
const reported = new WeakSet<StsError>();

/** True when a `FailureLog` has already reported this failure. */
export function isReported(error: StsError): boolean {
  return reported.has(error);
}

/**
 * Logs failures without flooding: one line per failure (callers that joined one fetch share it), repeats of the same
 * failure within `REPEAT_WINDOW_MS` counted into its next line, and at most `MAX_LINES_PER_WINDOW` lines per window
 * in all.
 */
export class FailureLog {
  private readonly logger: Logger;
  private readonly recent = new LRUCache<string, { loggedAt: number; repeats: number }>({ max: TRACKED_FAILURES });
  private window = { startedAt: -Infinity, lines: 0, unlogged: 0 };

  /**
   * @param now a monotonic clock (ms): a wall clock stepped back would never end a window.
   * @param context the Nest logger context of the lines.
   */
  constructor(
    private readonly now: () => number = () => performance.now(),
    context = 'StsService',
  ) {
    this.logger = new Logger(context);
  }

  report(error: StsError, roleArn?: string): void {
    reported.add(error);
    const now = this.now();
    if (now - this.window.startedAt >= REPEAT_WINDOW_MS) this.window = { startedAt: now, lines: 0, unlogged: this.window.unlogged };
    const key = `${error.operation} ${error.code} ${roleArn ?? ''}`;
    const last = this.recent.get(key);
    if (last !== undefined && now - last.loggedAt < REPEAT_WINDOW_MS) {
      last.repeats++;
      return;
    }
    if (this.window.lines >= MAX_LINES_PER_WINDOW) {
      this.window.unlogged++;
      return;
    }
    this.window.lines++;
    const line = new StsFailureLogLine(error, roleArn, last?.repeats ?? 0, this.window.unlogged);
    this.window.unlogged = 0;
    this.recent.set(key, { loggedAt: now, repeats: 0 });
    this.logger.warn(line);
  }
}
