/**
 * `onStreamsSettled`: the streams an SDK output holds (Node `Readable`, web `ReadableStream`, event-stream async
 * iterables) are watched until they end or are abandoned, so that a pooled client is destroyed only then.
 */
import { Readable } from 'node:stream';
import { onStreamsSettled } from '../../../src/clients/streaming-output';

/** An event stream like the SDK's: an object whose async iterator yields `events`, then fails with `failure` if given. */
function eventStream(events: string[], failure?: Error) {
  const seen = { returned: false };
  const stream = {
    async *[Symbol.asyncIterator]() {
      try {
        for (const event of events) yield event;
        if (failure) throw failure;
      } finally {
        seen.returned = true;
      }
    },
  };
  return { stream, seen };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('onStreamsSettled', () => {
  it('answers false and calls nothing for an output without streams', () => {
    const settled = jest.fn();
    expect(onStreamsSettled({ $metadata: {}, Items: [1, 2], Name: 'x' }, settled)).toBe(false);
    expect(onStreamsSettled(undefined, settled)).toBe(false);
    expect(settled).not.toHaveBeenCalled();
  });

  it('an event stream read to its end settles once, after the last event, and yields every event', async () => {
    const settled = jest.fn();
    const { stream } = eventStream(['a', 'b', 'c']);
    const output = { Payload: stream };
    expect(onStreamsSettled(output, settled)).toBe(true);
    const received: string[] = [];
    for await (const event of output.Payload) {
      received.push(event);
      expect(settled).not.toHaveBeenCalled();
    }
    expect(received).toEqual(['a', 'b', 'c']);
    expect(settled).toHaveBeenCalledTimes(1);
    expect(output.Payload).toBe(stream); // watched in place
  });

  it('an event stream that fails settles, and the reader sees the failure', async () => {
    const settled = jest.fn();
    const { stream } = eventStream(['a'], new Error('ECONNRESET'));
    onStreamsSettled({ Payload: stream }, settled);
    const reading = (async () => {
      for await (const _event of stream) void _event;
    })();
    await expect(reading).rejects.toThrow('ECONNRESET');
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('an event stream left with break settles, and its own iterator is returned (its socket released)', async () => {
    const settled = jest.fn();
    const { stream, seen } = eventStream(['a', 'b', 'c']);
    onStreamsSettled({ Payload: stream }, settled);
    for await (const event of stream) if (event === 'a') break;
    expect(seen.returned).toBe(true);
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('settles once when every stream of the output has: a Node body destroyed, then an event stream ended', async () => {
    const settled = jest.fn();
    const body = new Readable({ read() {} });
    const { stream } = eventStream(['a']);
    onStreamsSettled({ Body: body, Payload: stream }, settled);
    body.destroy();
    await tick();
    expect(settled).not.toHaveBeenCalled();
    for await (const _event of stream) void _event;
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('a web ReadableStream is replaced by one that passes its chunks on and settles when it ends', async () => {
    const settled = jest.fn();
    const source = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('first');
        controller.enqueue('-last');
        controller.close();
      },
    });
    const output: { Body: ReadableStream<string> } = { Body: source };
    onStreamsSettled(output, settled);
    expect(output.Body).not.toBe(source);
    const chunks: string[] = [];
    for await (const chunk of output.Body as unknown as AsyncIterable<string>) chunks.push(chunk);
    expect(chunks.join('')).toBe('first-last');
    await tick();
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('a web ReadableStream cancelled by its reader settles, and the cancel reaches the source', async () => {
    const settled = jest.fn();
    const cancelled = jest.fn();
    const source = new ReadableStream<string>({ pull: (controller) => controller.enqueue('chunk'), cancel: cancelled });
    const output: { Body: ReadableStream<string> } = { Body: source };
    onStreamsSettled(output, settled);
    const reader = output.Body.getReader();
    expect((await reader.read()).value).toBe('chunk');
    await reader.cancel('not needed');
    await tick();
    expect(cancelled).toHaveBeenCalled();
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('leaves streams already consumed alone: an ended Node body, a locked web stream', async () => {
    const settled = jest.fn();
    const ended = Readable.from([]);
    ended.resume();
    await new Promise((resolve) => ended.once('end', resolve));
    const locked = new ReadableStream();
    locked.getReader();
    expect(onStreamsSettled({ Body: ended, Other: locked }, settled)).toBe(false);
  });
});
