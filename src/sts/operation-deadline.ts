import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { StsError, type StsOperation } from '../errors/sts-error.js';

/** Settles like `running`, or rejects with `timedOut()` after `timeoutMs`; the timer never keeps the process alive. */
function settleWithin<T>(running: Promise<T>, timeoutMs: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timedOut()), timeoutMs);
    timer.unref();
  });
  return Promise.race([running, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Runs `work` and settles within `timeoutMs` whatever it does: past the deadline the returned promise rejects
 * with a retryable `StsError` `TimeoutError`, and `work`'s abort signal fires so an HTTP request in flight is
 * cancelled.
 */
export function withDeadline<T>(operation: StsOperation, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let running: Promise<T>;
  try {
    running = work(controller.signal);
  } catch (error) {
    running = Promise.reject(error);
  }
  return settleWithin(running, timeoutMs, () => {
    const error = new StsError(`${operation} did not settle within ${timeoutMs / 1000} s (operationTimeoutSeconds)`, {
      code: 'TimeoutError',
      operation,
    });
    controller.abort(error);
    return error;
  });
}

/**
 * The base credential provider, each resolution bounded by `timeoutMs`. The SDK shares one pending resolution
 * among all callers; bounded, a hung one is dropped at the deadline and the provider is asked again on the next
 * call, instead of every tenant waiting on it forever.
 */
export function boundedProvider(provider: AwsCredentialIdentityProvider, timeoutMs: number): AwsCredentialIdentityProvider {
  return (options) =>
    settleWithin(provider(options), timeoutMs, () =>
      Object.assign(new Error(`The base credential provider did not answer within ${timeoutMs / 1000} s`), { name: 'TimeoutError' }),
    );
}
