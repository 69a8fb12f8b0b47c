import { StsValidationError } from '../../src';

/** Awaits a promise that must reject, and returns what it rejected with (by default an `StsError`). */
export async function rejection<E = import('../../src').StsError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail');
}

/** Runs `run`, which must throw an `StsValidationError` synchronously, and returns that error. */
export function validationRefusal(run: () => unknown): StsValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StsValidationError);
    return error as StsValidationError;
  }
  throw new Error('expected a StsValidationError');
}

/** Polls in real time (a faked `Date` does not stop it) until `condition` holds, then lets pending work settle. */
export async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await new Promise((resolve) => setImmediate(resolve));
}
