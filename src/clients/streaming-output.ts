import { Readable, finished } from 'node:stream';
import { sdkStreamMixin } from '@smithy/core/serde';

/** An async iterable whose iteration can be watched (an event stream: S3 SelectObjectContent, Lambda, Bedrock…). */
type WatchableIterable = { [Symbol.asyncIterator](): AsyncIterator<unknown> };

const isAsyncIterable = (value: unknown): value is WatchableIterable =>
  typeof value === 'object' && value !== null && typeof (value as Partial<WatchableIterable>)[Symbol.asyncIterator] === 'function';

/** Once, however often it is called. */
function once(settled: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    settled();
  };
}

/**
 * A web stream that passes the chunks of `stream` on and calls `settled` when it ends, errs or is cancelled;
 * with the SDK's `transformToString`… when `stream` had them.
 */
function watchedWebStream(stream: ReadableStream, settled: () => void): ReadableStream {
  const { readable, writable } = new TransformStream();
  // The pipe settles when the source ends or fails, or when the reader cancels (that errors the writable side).
  stream.pipeTo(writable).then(settled, settled);
  return typeof (stream as { transformToString?: unknown }).transformToString === 'function'
    ? (sdkStreamMixin(readable) as ReadableStream)
    : readable;
}

/**
 * Makes every iteration of `iterable` call `settled` when it ends, throws, or is left (`break` out of `for await`
 * calls `return`). In place: the object stays the SDK's, with whatever else it holds.
 */
function watchIterations(iterable: WatchableIterable, settled: () => void): void {
  const iterate = iterable[Symbol.asyncIterator].bind(iterable);
  const track = async (step: () => Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> => {
    try {
      const result = await step();
      if (result.done) settled();
      return result;
    } catch (error) {
      settled();
      throw error;
    }
  };
  Object.defineProperty(iterable, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: (): AsyncIterator<unknown> => {
      const iterator = iterate();
      return {
        next: (...args: [] | [unknown]) => track(() => iterator.next(...args)),
        // Left early (or failed by the reader): the rest of the stream is not waited for.
        return: async (value?: unknown) => {
          try {
            return (await iterator.return?.(value)) ?? { done: true, value };
          } finally {
            settled();
          }
        },
        throw: (error?: unknown) => track(() => (iterator.throw ? iterator.throw(error) : Promise.reject(error))),
      };
    },
  });
}

/**
 * Watches every stream among an output's own values that is still to be read — a Node `Readable` (`Body` of S3
 * GetObject…), a web `ReadableStream`, or an async iterable (event streams) — and calls `settled` once, when the
 * last of them has ended, failed, or been abandoned (destroyed, cancelled, or left by `break`). A web stream is
 * replaced on the output by one that passes its chunks on. Returns false, calling nothing, when nothing streams.
 */
export function onStreamsSettled(output: unknown, settled: () => void): boolean {
  if (typeof output !== 'object' || output === null) return false;
  const record = output as Record<string, unknown>;
  const watched: ((done: () => void) => void)[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value instanceof Readable) {
      if (!value.destroyed && !value.readableEnded) watched.push((done) => finished(value, { writable: false }, done));
    } else if (value instanceof ReadableStream) {
      if (!value.locked) watched.push((done) => (record[key] = watchedWebStream(value, done)));
    } else if (isAsyncIterable(value)) {
      watched.push((done) => watchIterations(value, done));
    }
  }
  if (watched.length === 0) return false;
  let open = watched.length;
  for (const watch of watched) watch(once(() => --open === 0 && settled()));
  return true;
}
