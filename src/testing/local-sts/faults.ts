/**
 * Fault injection: the faults a test can ask for (throttle, 5xx, delay, socket reset, malformed XML, clock skew,
 * any STS error), the rules choosing which calls get one (per call, per action or per seeded rate), what each
 * fault answers, and the timers of delays (cancelled when the client goes away or the server closes).
 */
import type { ServerResponse } from 'node:http';
import { compactDate, LOCAL_STS_ERRORS, LocalStsFailure, malformedXml, type LocalStsErrorCode } from './wire-format.js';

/** A fault to inject into matching calls. */
export type LocalStsFault =
  | { kind: 'throttle' } // 400 Throttling "Rate exceeded"
  | { kind: 'status'; status: 500 | 503 } // 500 InternalFailure / 503 ServiceUnavailable
  | { kind: 'delay'; ms: number } // wait, then answer normally (cancelled on close or client abort)
  | { kind: 'reset' } // destroy the socket without answering
  | { kind: 'malformed' } // 200 with broken XML
  | { kind: 'clockSkew'; seconds: number } // 403 SignatureDoesNotMatch "Signature expired" with a Date header skewed by `seconds`
  | { kind: 'error'; code: LocalStsErrorCode; message?: string }; // any STS error with its canonical status

/** Which calls an injected fault applies to. */
export interface LocalStsFaultOptions {
  /** Apply to the next N matching calls. Default 1 when `rate` is not given. */
  times?: number;
  /** 0..1 probability per matching call (deterministic seeded RNG). Without `times`: until clearFaults(). */
  rate?: number;
  /** Only calls with this Action (e.g. 'AssumeRole'). */
  action?: string;
  /** Let this many matching calls through first (e.g. 1: fault the second AssumeRole). Default 0. */
  after?: number;
}

/** What a fault does to a call: answer an error, answer 200 with a body, drop the connection, or wait first. */
export type FaultEffect =
  | { kind: 'error'; failure: LocalStsFailure; headers?: Record<string, string> }
  | { kind: 'body'; body: string }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number };

interface FaultRule {
  fault: LocalStsFault;
  remaining?: number;
  rate?: number;
  action?: string;
  /** Matching calls still to let through before the fault applies. */
  skip: number;
}

/** The injected faults, in injection order; the first matching rule applies to a call. */
export class FaultInjector {
  private readonly rules: FaultRule[] = [];

  /** `random` draws 0..1 for rate-based rules. */
  constructor(private readonly random: () => number) {}

  /** Adds a rule; throws on invalid options. */
  inject(fault: LocalStsFault, options: LocalStsFaultOptions = {}): void {
    const { times, rate, action, after = 0 } = options;
    if (!Number.isInteger(after) || after < 0) throw new Error('LocalStsServer: after must be a non-negative integer');
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
      throw new Error('LocalStsServer: times must be a positive integer');
    }
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new Error('LocalStsServer: rate must be within 0..1');
    if (fault.kind === 'delay' && !(fault.ms >= 0)) throw new Error('LocalStsServer: delay ms must be >= 0');
    if (fault.kind === 'error' && !(fault.code in LOCAL_STS_ERRORS)) {
      throw new Error(`LocalStsServer: unknown error code ${fault.code}`);
    }
    this.rules.push({
      fault: { ...fault },
      remaining: times ?? (rate === undefined ? 1 : undefined),
      rate,
      action,
      skip: after,
    });
  }

  /** Removes every rule. */
  clear(): void {
    this.rules.length = 0;
  }

  /** The fault for a call of `action`, if any, counting it against its rule. */
  take(action: string): LocalStsFault | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (rule.action !== undefined && rule.action !== action) continue;
      if (rule.skip > 0) {
        rule.skip -= 1;
        continue;
      }
      if (rule.rate !== undefined && this.random() >= rule.rate) continue;
      if (rule.remaining !== undefined) {
        rule.remaining -= 1;
        if (rule.remaining <= 0) this.rules.splice(i, 1);
      }
      return rule.fault;
    }
    return undefined;
  }
}

/** What `fault` does to a call of `action` signed at `amzDate` (the clock is read only for clock skew). */
export function faultEffect(fault: LocalStsFault, action: string, amzDate: string, now: () => number): FaultEffect {
  switch (fault.kind) {
    case 'throttle':
      return { kind: 'error', failure: new LocalStsFailure('Throttling', 'Rate exceeded') };
    case 'status':
      return { kind: 'error', failure: new LocalStsFailure(fault.status === 503 ? 'ServiceUnavailable' : 'InternalFailure') };
    case 'error':
      return { kind: 'error', failure: new LocalStsFailure(fault.code, fault.message) };
    case 'reset':
      return { kind: 'reset' };
    case 'malformed':
      return { kind: 'body', body: malformedXml(action) };
    case 'clockSkew': {
      const serverNow = now() + fault.seconds * 1000;
      const failure = new LocalStsFailure(
        'SignatureDoesNotMatch',
        `Signature expired: ${amzDate} is now earlier than ${compactDate(serverNow - 5 * 60_000)} (${compactDate(serverNow)} - 5 min.)`,
      );
      return { kind: 'error', failure, headers: { date: new Date(serverNow).toUTCString() } };
    }
    case 'delay':
      return { kind: 'delay', ms: fault.ms };
  }
}

/** The timers of `delay` faults under way. */
export class PendingDelays {
  private readonly pending = new Set<{ timer: NodeJS.Timeout; resolve: (elapsed: boolean) => void }>();
  private cancelled = false;

  /** Resolves true after `ms`, or false as soon as `res` closes or cancelAll() is called. */
  wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.cancelled || res.destroyed) {
        resolve(false);
        return;
      }
      let settled = false;
      const finish = (elapsed: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(entry.timer);
        this.pending.delete(entry);
        res.off('close', onClose);
        resolve(elapsed && !this.cancelled && !res.destroyed);
      };
      const onClose = (): void => finish(false);
      const entry = { timer: setTimeout(() => finish(true), ms), resolve: finish };
      this.pending.add(entry);
      res.once('close', onClose);
    });
  }

  /** Ends every delay under way, and every later one at once (the server is closing). */
  cancelAll(): void {
    this.cancelled = true;
    for (const pending of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve(false);
    }
    this.pending.clear();
  }
}
